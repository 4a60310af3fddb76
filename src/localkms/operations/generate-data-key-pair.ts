import Type from 'typebox';
import { assertNoRecipient, encodeBlob, RecipientField } from './common.js';
import { dataKeyPairRequestMembers, newDataKeyPair } from './data-key-pair.js';
import { defineOperation } from './operation.js';

/** GenerateDataKeyPair: an RSA or ECC key pair, with the private key in plaintext and encrypted. */
export const generateDataKeyPair = defineOperation(
  'GenerateDataKeyPair',
  Type.Object({ ...dataKeyPairRequestMembers, Recipient: Type.Optional(RecipientField) }),
  async (request, context) => {
    assertNoRecipient(request.Recipient);
    const pair = await newDataKeyPair(request, 'GenerateDataKeyPair', context);
    return {
      PrivateKeyCiphertextBlob: encodeBlob(pair.privateKeyCiphertext),
      PrivateKeyPlaintext: encodeBlob(pair.privateKey),
      PublicKey: encodeBlob(pair.publicKey),
      KeyId: pair.keyArn,
      KeyPairSpec: pair.spec,
      KeyMaterialId: pair.keyMaterialId,
    };
  },
);
