import Type from 'typebox';
import {
  assertNoRecipient,
  assertSymmetricAlgorithm,
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
import { decryptBlob } from './crypto.js';
import { defineOperation } from './operation.js';

/**
 * Decrypt: KeyId is optional (the blob names its key); when given it must name
 * that key, or the call fails with IncorrectKeyException as in AWS.
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
    assertSymmetricAlgorithm(request.EncryptionAlgorithm);
    assertNoRecipient(request.Recipient);
    const { key, plaintext, materialVersion } = decryptBlob(
      blob,
      request.EncryptionContext,
      request.KeyId,
      context,
    );
    stopIfDryRun(request.DryRun);
    return {
      KeyId: key.arn,
      Plaintext: encodeBlob(plaintext),
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      KeyMaterialId: keyMaterialId(key, materialVersion),
    };
  },
);
