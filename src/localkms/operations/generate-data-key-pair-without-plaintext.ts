import Type from 'typebox';
import { encodeBlob } from './common.js';
import { dataKeyPairRequestMembers, newDataKeyPair } from './data-key-pair.js';
import { defineOperation } from './operation.js';

/** GenerateDataKeyPairWithoutPlaintext: the public key and the encrypted private key only. */
export const generateDataKeyPairWithoutPlaintext = defineOperation(
  'GenerateDataKeyPairWithoutPlaintext',
  Type.Object(dataKeyPairRequestMembers),
  async (request, context) => {
    const pair = await newDataKeyPair(request, 'GenerateDataKeyPairWithoutPlaintext', context);
    return {
      PrivateKeyCiphertextBlob: encodeBlob(pair.privateKeyCiphertext),
      PublicKey: encodeBlob(pair.publicKey),
      KeyId: pair.keyArn,
      KeyPairSpec: pair.spec,
      KeyMaterialId: pair.keyMaterialId,
    };
  },
);
