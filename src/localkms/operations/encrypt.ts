import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import {
  decodeBlob,
  DryRunField,
  encodeBlob,
  EncryptionAlgorithmField,
  EncryptionContextField,
  GrantTokensField,
  KeyIdField,
  PLAINTEXT_MAX_BYTES,
  stopIfDryRun,
} from './common.js';
import { encryptWith } from './crypto.js';
import { defineOperation } from './operation.js';

/**
 * Encrypt: up to 4096 bytes under a symmetric key's current key material, or
 * with RSAES-OAEP under an RSA ENCRYPT_DECRYPT key (as much as the key size
 * and algorithm allow).
 */
export const encrypt = defineOperation(
  'Encrypt',
  Type.Object({
    KeyId: KeyIdField,
    Plaintext: Type.String(),
    EncryptionContext: Type.Optional(EncryptionContextField),
    GrantTokens: Type.Optional(GrantTokensField),
    EncryptionAlgorithm: Type.Optional(EncryptionAlgorithmField),
    DryRun: Type.Optional(DryRunField),
  }),
  (request, { region, store }) => {
    const plaintext = decodeBlob('Plaintext', request.Plaintext, PLAINTEXT_MAX_BYTES);
    const key = resolveKey(store, region, request.KeyId, 'key-or-alias');
    const algorithm = request.EncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT';
    const ciphertext = encryptWith(key, algorithm, plaintext, request.EncryptionContext, 'Encrypt');
    stopIfDryRun(request.DryRun);
    return { CiphertextBlob: encodeBlob(ciphertext), KeyId: key.arn, EncryptionAlgorithm: algorithm };
  },
);
