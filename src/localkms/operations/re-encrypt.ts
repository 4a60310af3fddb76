import Type from 'typebox';
import { KEY_SPECS } from '../key-specs.js';
import { resolveKey } from '../resolve.js';
import {
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
import { decryptWith, encryptWith } from './crypto.js';
import { defineOperation } from './operation.js';

/**
 * ReEncrypt: decrypts and encrypts again in one call, possibly under another
 * key, context or algorithm (symmetric or RSA on either side); the plaintext
 * never leaves.
 */
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
    const destination = resolveKey(context.store, context.region, request.DestinationKeyId, 'key-or-alias');
    const source = decryptWith(
      blob,
      request.SourceEncryptionContext,
      request.SourceKeyId,
      request.SourceEncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT',
      'ReEncrypt',
      context,
    );
    const destinationAlgorithm = request.DestinationEncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT';
    const ciphertext = encryptWith(
      destination,
      destinationAlgorithm,
      source.plaintext,
      request.DestinationEncryptionContext,
      'ReEncrypt',
    );
    stopIfDryRun(request.DryRun);
    const symmetricDestination = KEY_SPECS[destination.keySpec].kind === 'symmetric';
    return {
      CiphertextBlob: encodeBlob(ciphertext),
      SourceKeyId: source.key.arn,
      KeyId: destination.arn,
      SourceEncryptionAlgorithm: source.algorithm,
      DestinationEncryptionAlgorithm: destinationAlgorithm,
      SourceKeyMaterialId:
        source.materialVersion === undefined ? undefined : keyMaterialId(source.key, source.materialVersion),
      DestinationKeyMaterialId: symmetricDestination
        ? keyMaterialId(destination, destination.materials.length - 1)
        : undefined,
    };
  },
);
