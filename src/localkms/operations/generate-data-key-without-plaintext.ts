import Type from 'typebox';
import { encodeBlob } from './common.js';
import { dataKeyRequestMembers, newDataKey } from './data-key.js';
import { defineOperation } from './operation.js';

export const generateDataKeyWithoutPlaintext = defineOperation(
  'GenerateDataKeyWithoutPlaintext',
  Type.Object(dataKeyRequestMembers),
  (request, context) => {
    const dataKey = newDataKey(request, 'GenerateDataKeyWithoutPlaintext', context);
    return {
      CiphertextBlob: encodeBlob(dataKey.ciphertext),
      KeyId: dataKey.keyArn,
      KeyMaterialId: dataKey.keyMaterialId,
    };
  },
);
