import { IV_BYTES, TAG_BYTES, open as openGcm, seal as sealGcm } from '../shared/aes-gcm.js';
import { EnvelopeError } from './errors.js';

/**
 * Envelope format, version 1 (docs/client.md has the same table):
 *
 *   offset  length  content
 *   0       1       version, 0x01
 *   1       12      nonce: random for every envelope
 *   13      n       AES-256-GCM ciphertext of the n-byte plaintext
 *   13+n    16      GCM authentication tag
 *
 * Additional data (authenticated, not stored): the version byte, the id's UTF-8 length
 * as a 32-bit big-endian integer, the id, the caller's AAD length the same way, the AAD.
 * The lengths keep ("ab", "c") and ("a", "bc") apart.
 */
export const ENVELOPE_VERSION = 1;
const HEADER_BYTES = 1 + IV_BYTES;
const KEY_BYTES = 32;
/** Smallest envelope: the header and the tag of an empty plaintext. */
export const ENVELOPE_OVERHEAD = HEADER_BYTES + TAG_BYTES;

export type Bytes = Uint8Array | string;

/** Encrypts `plaintext` under `key` for `id` with a fresh random nonce. */
export function seal(key: Uint8Array, id: string, plaintext: Bytes, aad: Bytes = ''): Buffer {
  checkKey(key);
  const { iv, tag, ciphertext } = sealGcm(key, bytes(plaintext), additionalData(id, aad));
  return Buffer.concat([Buffer.of(ENVELOPE_VERSION), iv, ciphertext, tag]);
}

/** The plaintext of an envelope `seal` made with the same key, id and AAD; EnvelopeError otherwise. */
export function open(key: Uint8Array, id: string, envelope: Uint8Array, aad: Bytes = ''): Buffer {
  checkKey(key);
  checkHeader(envelope);
  const sealed = {
    iv: envelope.subarray(1, HEADER_BYTES),
    ciphertext: envelope.subarray(HEADER_BYTES, envelope.length - TAG_BYTES),
    tag: envelope.subarray(envelope.length - TAG_BYTES),
  };
  const plaintext = openGcm(key, sealed, additionalData(id, aad));
  if (!plaintext) {
    throw new EnvelopeError(
      `the envelope does not decrypt for id '${id}': it was altered, or sealed for another id, AAD or key`,
    );
  }
  return plaintext;
}

/** Throws EnvelopeError unless `envelope` looks like a version-1 envelope. */
export function checkHeader(envelope: Uint8Array): void {
  if (!(envelope instanceof Uint8Array))
    throw new EnvelopeError('an envelope is bytes (a Buffer or Uint8Array), as encrypt returned it');
  if (envelope.length < ENVELOPE_OVERHEAD)
    throw new EnvelopeError(
      `an envelope is at least ${ENVELOPE_OVERHEAD} bytes; this one has ${envelope.length}: ` +
        'it was truncated or is not an envelope',
    );
  if (envelope[0] !== ENVELOPE_VERSION)
    throw new EnvelopeError(
      `unknown envelope version ${envelope[0]}; this client reads version ${ENVELOPE_VERSION}`,
    );
}

function additionalData(id: string, aad: Bytes): Buffer {
  const idBytes = Buffer.from(id, 'utf8');
  const aadBytes = bytes(aad);
  const data = Buffer.alloc(1 + 4 + idBytes.length + 4 + aadBytes.length);
  let offset = data.writeUInt8(ENVELOPE_VERSION, 0);
  offset = data.writeUInt32BE(idBytes.length, offset);
  offset += idBytes.copy(data, offset);
  offset = data.writeUInt32BE(aadBytes.length, offset);
  data.set(aadBytes, offset);
  return data;
}

function bytes(value: Bytes): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return value;
  throw new TypeError('plaintext and aad are a string (UTF-8) or bytes (a Buffer or Uint8Array)');
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES)
    throw new EnvelopeError(
      `the id's data key is ${key.length} bytes; AES-256-GCM needs ${KEY_BYTES} (RKMS's kms.data_key_size_in_bytes)`,
    );
}
