import { openBlob, readBlobHeader, sealBlob, type BlobContext } from '../ciphertext.js';
import { KmsError } from '../errors.js';
import { KEY_SPECS, oaepMaxPlaintextBytes, type RsaEncryptionAlgorithm } from '../key-specs.js';
import type { KmsKey } from '../kms-key.js';
import { resolveKey } from '../resolve.js';
import { oaepDecrypt, oaepEncrypt } from '../rsa-encryption.js';
import { assertKeyUsage, assertUsable, incompatibleAlgorithm, type EncryptionAlgorithm } from './common.js';
import type { OperationContext } from './operation.js';

/**
 * The cryptography Encrypt, Decrypt, ReEncrypt and the data-key operations
 * share. Symmetric keys seal this emulator's blob (ciphertext.ts); RSA keys
 * produce plain RSAES-OAEP ciphertexts, which name no key, so decrypting one
 * needs the KeyId, as in AWS.
 */

export function encryptUnder(key: KmsKey, plaintext: Buffer, context: BlobContext | undefined): Buffer {
  const materialVersion = key.materials.length - 1;
  const material = key.materials[materialVersion];
  if (!material) throw new KmsError('KMSInternalException', `${key.arn} has no key material`);
  return sealBlob({ keyId: key.keyId, materialVersion }, material, plaintext, context ?? {});
}

/**
 * Encrypt and ReEncrypt's destination: checks the key's state, usage and
 * algorithm in that order, then encrypts.
 */
export function encryptWith(
  key: KmsKey,
  algorithm: EncryptionAlgorithm,
  plaintext: Buffer,
  context: BlobContext | undefined,
  operation: string,
): Buffer {
  assertUsable(key);
  assertKeyUsage(key, 'ENCRYPT_DECRYPT', operation);
  const spec = KEY_SPECS[key.keySpec];
  if (spec.kind === 'symmetric') {
    if (algorithm !== 'SYMMETRIC_DEFAULT') throw incompatibleAlgorithm(algorithm, key);
    return encryptUnder(key, plaintext, context);
  }
  if (spec.kind !== 'rsa' || !isRsaAlgorithm(algorithm)) throw incompatibleAlgorithm(algorithm, key);
  assertNoContextForAsymmetricKey(context);
  const limit = oaepMaxPlaintextBytes(spec.modulusBits, algorithm);
  if (plaintext.length > limit) {
    throw new KmsError(
      'ValidationException',
      `Algorithm ${algorithm} and key spec ${key.keySpec} cannot encrypt data larger than ${limit} bytes.`,
    );
  }
  return oaepEncrypt(materialOf(key), algorithm, plaintext);
}

export interface Decrypted {
  readonly key: KmsKey;
  readonly plaintext: Buffer;
  /** The key-material version of a symmetric blob; undefined for an RSA ciphertext. */
  readonly materialVersion: number | undefined;
  readonly algorithm: EncryptionAlgorithm;
}

/**
 * Decrypts a ciphertext of this region. `keyRef` is the KeyId of the request:
 * optional for a symmetric blob, which names its key (AWS then holds the
 * request to that key), and required for an RSA ciphertext, which does not.
 */
export function decryptWith(
  blob: Buffer,
  context: BlobContext | undefined,
  keyRef: string | undefined,
  algorithm: EncryptionAlgorithm,
  operation: string,
  { store, region }: OperationContext,
): Decrypted {
  const named = keyRef === undefined ? undefined : resolveKey(store, region, keyRef, 'key-or-alias');
  if (algorithm !== 'SYMMETRIC_DEFAULT')
    return decryptAsymmetric(blob, context, named, algorithm, operation, store, region);
  const header = readBlobHeader(blob);
  if (!header) throw invalidCiphertext('The ciphertext is not one this KMS produced, or it was damaged.');
  if (named && named.keyId !== header.keyId) {
    throw new KmsError(
      'IncorrectKeyException',
      named.keyUsage === 'ENCRYPT_DECRYPT'
        ? 'The key ID in the request does not identify the KMS key that encrypted the ciphertext.'
        : 'The key ID in the request does not identify a CMK that can perform this operation.',
    );
  }
  const key = named ?? store.liveKey(region, header.keyId);
  if (!key) {
    throw invalidCiphertext(
      `The ciphertext was made under a key that does not exist in ${region} (a ciphertext decrypts ` +
        `only in the region of its key, or of a replica of its multi-Region key).`,
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
  return { key, plaintext, materialVersion: header.materialVersion, algorithm };
}

function decryptAsymmetric(
  blob: Buffer,
  context: BlobContext | undefined,
  named: KmsKey | undefined,
  algorithm: Exclude<EncryptionAlgorithm, 'SYMMETRIC_DEFAULT'>,
  operation: string,
  store: OperationContext['store'],
  region: string,
): Decrypted {
  if (!named) {
    // Without a KeyId only a blob of this emulator names its key, and that key is symmetric.
    const header = readBlobHeader(blob);
    const key = header && store.liveKey(region, header.keyId);
    if (key) throw incompatibleAlgorithm(algorithm, key);
    throw invalidCiphertext(
      'An asymmetric ciphertext names no key: give the KeyId of the RSA key that made it.',
    );
  }
  assertUsable(named);
  assertKeyUsage(named, 'ENCRYPT_DECRYPT', operation);
  const spec = KEY_SPECS[named.keySpec];
  if (spec.kind !== 'rsa' || !isRsaAlgorithm(algorithm)) throw incompatibleAlgorithm(algorithm, named);
  assertNoContextForAsymmetricKey(context);
  const plaintext = oaepDecrypt(materialOf(named), algorithm, blob);
  if (!plaintext) {
    throw invalidCiphertext(
      `The ciphertext was not made by ${named.arn} with ${algorithm}, or it was altered.`,
    );
  }
  return { key: named, plaintext, materialVersion: undefined, algorithm };
}

/**
 * AWS binds an encryption context only to symmetric ciphertexts; with an RSA key it refuses one
 * rather than drop it.
 */
function assertNoContextForAsymmetricKey(context: BlobContext | undefined): void {
  if (context !== undefined && Object.keys(context).length > 0) {
    throw new KmsError(
      'ValidationException',
      'EncryptionContext is supported only on operations with symmetric encryption KMS keys.',
    );
  }
}

function isRsaAlgorithm(algorithm: EncryptionAlgorithm): algorithm is RsaEncryptionAlgorithm {
  return algorithm === 'RSAES_OAEP_SHA_1' || algorithm === 'RSAES_OAEP_SHA_256';
}

function materialOf(key: KmsKey): Buffer {
  const material = key.materials[0];
  if (!material) throw new KmsError('KMSInternalException', `${key.arn} has no key material`);
  return material;
}

function invalidCiphertext(message: string): KmsError {
  return new KmsError('InvalidCiphertextException', message);
}
