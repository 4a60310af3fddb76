import { IV_BYTES, TAG_BYTES, open, seal } from '../shared/aes-gcm.js';

/**
 * The ciphertext blob of the local KMS:
 *
 *   magic "LK" | format | key id (16 bytes) | key-material version (uint32 BE)
 *   | IV (12) | GCM tag (16) | AES-256-GCM ciphertext
 *
 * Format 1 carries a UUID key id, format 2 the 32 hex digits of a multi-Region
 * key id (`mrk-…`). The blob names no region, so a replica of a multi-Region
 * key, which has the same id and key material, decrypts it in its own region.
 *
 * The header lets Decrypt find the key without a KeyId, as AWS does. The GCM
 * additional data is the header followed by the canonical encryption context,
 * so a changed header, a changed context or a changed byte anywhere fails
 * authentication instead of decrypting to something else.
 */

/** The encryption context a blob is bound to: part of its GCM additional data. */
export type BlobContext = Readonly<Record<string, string>>;

export interface BlobHeader {
  readonly keyId: string;
  readonly materialVersion: number;
}

const MAGIC = Buffer.from('LK', 'latin1');
const UUID_FORMAT = 1;
const MULTI_REGION_FORMAT = 2;
const MULTI_REGION_PREFIX = 'mrk-';
const HEADER_BYTES = MAGIC.length + 1 + 16 + 4;

export function sealBlob(
  header: BlobHeader,
  material: Buffer,
  plaintext: Buffer,
  context: BlobContext,
): Buffer {
  const head = encodeHeader(header);
  const { iv, tag, ciphertext } = seal(material, plaintext, Buffer.concat([head, canonicalContext(context)]));
  return Buffer.concat([head, iv, tag, ciphertext]);
}

/** The header of a blob, or undefined when the bytes are not a blob of this emulator. */
export function readBlobHeader(blob: Buffer): BlobHeader | undefined {
  if (blob.length < HEADER_BYTES + IV_BYTES + TAG_BYTES) return undefined;
  if (!blob.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const format = blob[MAGIC.length];
  if (format !== UUID_FORMAT && format !== MULTI_REGION_FORMAT) return undefined;
  const idStart = MAGIC.length + 1;
  const hex = blob.subarray(idStart, idStart + 16).toString('hex');
  const keyId =
    format === MULTI_REGION_FORMAT
      ? `${MULTI_REGION_PREFIX}${hex}`
      : `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { keyId, materialVersion: blob.readUInt32BE(idStart + 16) };
}

/** The plaintext, or undefined when the blob, the key material or the context is not the one it was sealed with. */
export function openBlob(blob: Buffer, material: Buffer, context: BlobContext): Buffer | undefined {
  const head = blob.subarray(0, HEADER_BYTES);
  const iv = blob.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
  const tag = blob.subarray(HEADER_BYTES + IV_BYTES, HEADER_BYTES + IV_BYTES + TAG_BYTES);
  const ciphertext = blob.subarray(HEADER_BYTES + IV_BYTES + TAG_BYTES);
  return open(material, { iv, tag, ciphertext }, Buffer.concat([head, canonicalContext(context)]));
}

/**
 * Pairs sorted by key, as JSON: the same context in any key order gives the
 * same bytes, and no context is the same as an empty one, as in AWS.
 */
export function canonicalContext(context: BlobContext): Buffer {
  const pairs = Object.keys(context)
    .sort()
    .map((key) => [key, context[key]]);
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

function encodeHeader(header: BlobHeader): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(head, 0);
  const multiRegion = header.keyId.startsWith(MULTI_REGION_PREFIX);
  head[MAGIC.length] = multiRegion ? MULTI_REGION_FORMAT : UUID_FORMAT;
  const hex = multiRegion ? header.keyId.slice(MULTI_REGION_PREFIX.length) : header.keyId.replaceAll('-', '');
  Buffer.from(hex, 'hex').copy(head, MAGIC.length + 1);
  head.writeUInt32BE(header.materialVersion, MAGIC.length + 1 + 16);
  return head;
}
