import Type from 'typebox';
import { KmsError } from '../errors.js';
import type { KmsKey } from '../kms-key.js';

/** Request members and checks that Sign, Verify, GenerateMac and VerifyMac share: a message and its algorithm. */

/** Sign, Verify and the MAC operations take a message of 1–4096 bytes. */
export const MESSAGE_MAX_BYTES = 4096;

export const SigningAlgorithmField = Type.Enum([
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'ECDSA_SHA_256',
  'ECDSA_SHA_384',
  'ECDSA_SHA_512',
  'SM2DSA',
  'ML_DSA_SHAKE_256',
  'ED25519_SHA_512',
  'ED25519_PH_SHA_512',
]);
export const MessageTypeField = Type.Enum(['RAW', 'DIGEST', 'EXTERNAL_MU']);
export const MacAlgorithmField = Type.Enum(['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512']);

/** EXTERNAL_MU is for ML-DSA keys, which the local KMS does not make. */
export function assertMessageType(key: KmsKey, messageType: string): asserts messageType is 'RAW' | 'DIGEST' {
  if (messageType !== 'RAW' && messageType !== 'DIGEST') {
    throw new KmsError(
      'ValidationException',
      `Message type ${messageType} is incompatible with key spec ${key.keySpec}.`,
    );
  }
}

/** The private key of an asymmetric key, or the secret of an HMAC key: its only key-material version. */
export function singleMaterial(key: KmsKey): Buffer {
  const material = key.materials[0];
  if (!material) throw new KmsError('KMSInternalException', `${key.arn} has no key material`);
  return material;
}
