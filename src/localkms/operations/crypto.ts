import { openBlob, readBlobHeader, sealBlob, type EncryptionContext } from '../ciphertext.js';
import { KmsError } from '../errors.js';
import type { KmsKey } from '../keystore.js';
import { resolveKey } from '../resolve.js';
import { assertUsable } from './common.js';
import type { OperationContext } from './operation.js';

/** The cryptography Encrypt, Decrypt, ReEncrypt and the data-key operations share. */

export function encryptUnder(key: KmsKey, plaintext: Buffer, context: EncryptionContext | undefined): Buffer {
  const materialVersion = key.materials.length - 1;
  const material = key.materials[materialVersion];
  if (!material) throw new KmsError('KMSInternalException', `${key.arn} has no key material`);
  return sealBlob({ keyId: key.keyId, materialVersion }, material, plaintext, context ?? {});
}

export interface Decrypted {
  readonly key: KmsKey;
  readonly plaintext: Buffer;
  readonly materialVersion: number;
}

/**
 * Decrypts a blob of this region. `keyRef` is the KeyId of the request, which
 * AWS makes optional for symmetric keys but then holds to the key in the blob.
 */
export function decryptBlob(
  blob: Buffer,
  context: EncryptionContext | undefined,
  keyRef: string | undefined,
  { store, region }: OperationContext,
): Decrypted {
  const named = keyRef === undefined ? undefined : resolveKey(store, region, keyRef, 'key-or-alias');
  const header = readBlobHeader(blob);
  if (!header) throw invalidCiphertext('The ciphertext is not one this KMS produced, or it was damaged.');
  if (named && named.keyId !== header.keyId) {
    throw new KmsError(
      'IncorrectKeyException',
      `The key ID in the request does not identify the KMS key that encrypted the ciphertext.`,
    );
  }
  const key = named ?? store.liveKey(region, header.keyId);
  if (!key) {
    throw invalidCiphertext(
      `The ciphertext was made under a key that does not exist in ${region} (a ciphertext decrypts only in the region of its key).`,
    );
  }
  assertUsable(key);
  const material = key.materials[header.materialVersion];
  const plaintext = material && openBlob(blob, material, context ?? {});
  if (!plaintext) {
    throw invalidCiphertext(
      'The ciphertext was altered, or the encryption context differs from the one it was encrypted with.',
    );
  }
  return { key, plaintext, materialVersion: header.materialVersion };
}

function invalidCiphertext(message: string): KmsError {
  return new KmsError('InvalidCiphertextException', message);
}
