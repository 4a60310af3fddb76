import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import {
  assertSymmetricAlgorithm,
  assertUsable,
  CIPHERTEXT_MAX_BYTES,
  decodeBlob,
  DryRunField,
  encodeBlob,
  EncryptionAlgorithmField,
  EncryptionContextField,
  GrantTokensField,
  KeyIdField,
  keyMaterialId,
  stopIfDryRun,
} from './common.js';
import { decryptBlob, encryptUnder } from './crypto.js';
import { defineOperation } from './operation.js';

/** ReEncrypt: decrypts and encrypts again in one call, possibly under another key and context; the plaintext never leaves. */
export const reEncrypt = defineOperation(
  'ReEncrypt',
  Type.Object({
    CiphertextBlob: Type.String(),
    SourceEncryptionContext: Type.Optional(EncryptionContextField),
    SourceKeyId: Type.Optional(KeyIdField),
    DestinationKeyId: KeyIdField,
    DestinationEncryptionContext: Type.Optional(EncryptionContextField),
    SourceEncryptionAlgorithm: Type.Optional(EncryptionAlgorithmField),
    DestinationEncryptionAlgorithm: Type.Optional(EncryptionAlgorithmField),
    GrantTokens: Type.Optional(GrantTokensField),
    DryRun: Type.Optional(DryRunField),
  }),
  (request, context) => {
    const blob = decodeBlob('CiphertextBlob', request.CiphertextBlob, CIPHERTEXT_MAX_BYTES);
    assertSymmetricAlgorithm(request.SourceEncryptionAlgorithm);
    assertSymmetricAlgorithm(request.DestinationEncryptionAlgorithm);
    const destination = resolveKey(context.store, context.region, request.DestinationKeyId, 'key-or-alias');
    const source = decryptBlob(blob, request.SourceEncryptionContext, request.SourceKeyId, context);
    assertUsable(destination);
    stopIfDryRun(request.DryRun);
    return {
      CiphertextBlob: encodeBlob(
        encryptUnder(destination, source.plaintext, request.DestinationEncryptionContext),
      ),
      SourceKeyId: source.key.arn,
      KeyId: destination.arn,
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      SourceKeyMaterialId: keyMaterialId(source.key, source.materialVersion),
      DestinationKeyMaterialId: keyMaterialId(destination, destination.materials.length - 1),
    };
  },
);
