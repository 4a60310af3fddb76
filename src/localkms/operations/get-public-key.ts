import Type from 'typebox';
import { KmsError } from '../errors.js';
import { publicKeyDer } from '../key-material.js';
import { encryptionAlgorithmsOf, KEY_SPECS, signingAlgorithmsOf } from '../key-specs.js';
import { resolveKey } from '../resolve.js';
import { assertUsable, encodeBlob, GrantTokensField, KeyIdField } from './common.js';
import { singleMaterial } from './message-members.js';
import { defineOperation } from './operation.js';

/**
 * GetPublicKey: the DER SubjectPublicKeyInfo of an RSA or ECC key, with the
 * spec, usage and algorithms a caller needs to use it correctly outside KMS.
 */
export const getPublicKey = defineOperation(
  'GetPublicKey',
  Type.Object({ KeyId: KeyIdField, GrantTokens: Type.Optional(GrantTokensField) }),
  (request, { region, store }) => {
    const key = resolveKey(store, region, request.KeyId, 'key-or-alias');
    assertUsable(key);
    const kind = KEY_SPECS[key.keySpec].kind;
    if (kind !== 'rsa' && kind !== 'ecc') {
      throw new KmsError(
        'UnsupportedOperationException',
        `${key.arn} key spec is ${key.keySpec} which is not valid for GetPublicKey.`,
      );
    }
    const encryptionAlgorithms = encryptionAlgorithmsOf(key.keySpec, key.keyUsage);
    const signingAlgorithms = signingAlgorithmsOf(key.keySpec, key.keyUsage);
    return {
      KeyId: key.arn,
      PublicKey: encodeBlob(publicKeyDer(singleMaterial(key))),
      CustomerMasterKeySpec: key.keySpec,
      KeySpec: key.keySpec,
      KeyUsage: key.keyUsage,
      EncryptionAlgorithms: encryptionAlgorithms && [...encryptionAlgorithms],
      SigningAlgorithms: signingAlgorithms && [...signingAlgorithms],
    };
  },
);
