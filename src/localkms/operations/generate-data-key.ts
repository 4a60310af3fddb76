import Type from 'typebox';
import { assertNoRecipient, encodeBlob, RecipientField } from './common.js';
import { dataKeyRequestMembers, newDataKey } from './data-key.js';
import { defineOperation } from './operation.js';

/** GenerateDataKey: NumberOfBytes (1–1024) or KeySpec (AES_128, AES_256), one of the two. */
export const generateDataKey = defineOperation(
  'GenerateDataKey',
  Type.Object({ ...dataKeyRequestMembers, Recipient: Type.Optional(RecipientField) }),
  (request, context) => {
    assertNoRecipient(request.Recipient);
    const dataKey = newDataKey(request, 'GenerateDataKey', context);
    return {
      CiphertextBlob: encodeBlob(dataKey.ciphertext),
      Plaintext: encodeBlob(dataKey.plaintext),
      KeyId: dataKey.keyArn,
      KeyMaterialId: dataKey.keyMaterialId,
    };
  },
);
