import Type from 'typebox';
import {
  assertNoRecipient,
  CIPHERTEXT_MAX_BYTES,
  decodeBlob,
  DryRunField,
  encodeBlob,
  EncryptionAlgorithmField,
  EncryptionContextField,
  GrantTokensField,
  KeyIdField,
  keyMaterialId,
  RecipientField,
  stopIfDryRun,
} from './common.js';
import { decryptWith } from './crypto.js';
import { defineOperation } from './operation.js';

/**
 * Decrypt: KeyId is optional for a symmetric ciphertext (the blob names its
 * key); when given it must name that key, or the call fails with
 * IncorrectKeyException as in AWS. An RSA ciphertext needs the KeyId and its
 * EncryptionAlgorithm.
 */
export const decrypt = defineOperation(
  'Decrypt',
  Type.Object({
    CiphertextBlob: Type.String(),
    EncryptionContext: Type.Optional(EncryptionContextField),
    GrantTokens: Type.Optional(GrantTokensField),
    KeyId: Type.Optional(KeyIdField),
    EncryptionAlgorithm: Type.Optional(EncryptionAlgorithmField),
    Recipient: Type.Optional(RecipientField),
    DryRun: Type.Optional(DryRunField),
  }),
  (request, context) => {
    const blob = decodeBlob('CiphertextBlob', request.CiphertextBlob, CIPHERTEXT_MAX_BYTES);
    assertNoRecipient(request.Recipient);
    const { key, plaintext, materialVersion, algorithm } = decryptWith(
      blob,
      request.EncryptionContext,
      request.KeyId,
      request.EncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT',
      'Decrypt',
      context,
    );
    stopIfDryRun(request.DryRun);
    return {
      KeyId: key.arn,
      Plaintext: encodeBlob(plaintext),
      EncryptionAlgorithm: algorithm,
      KeyMaterialId: materialVersion === undefined ? undefined : keyMaterialId(key, materialVersion),
    };
  },
);
