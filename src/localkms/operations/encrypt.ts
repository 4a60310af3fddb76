import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import {
  assertSymmetricAlgorithm,
  assertUsable,
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
import { encryptUnder } from './crypto.js';
import { defineOperation } from './operation.js';

/** Encrypt: up to 4096 bytes under the key's current key material. */
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
    assertSymmetricAlgorithm(request.EncryptionAlgorithm);
    assertUsable(key);
    stopIfDryRun(request.DryRun);
    return {
      CiphertextBlob: encodeBlob(encryptUnder(key, plaintext, request.EncryptionContext)),
      KeyId: key.arn,
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  },
);
