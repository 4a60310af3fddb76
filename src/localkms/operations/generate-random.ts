import { randomBytes } from 'node:crypto';
import Type from 'typebox';
import { KmsError } from '../errors.js';
import { assertNoRecipient, encodeBlob, RecipientField } from './common.js';
import { defineOperation } from './operation.js';

/** GenerateRandom: 1–1024 random bytes; needs no key. */
export const generateRandom = defineOperation(
  'GenerateRandom',
  Type.Object({
    NumberOfBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    CustomKeyStoreId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    Recipient: Type.Optional(RecipientField),
  }),
  (request) => {
    assertNoRecipient(request.Recipient);
    if (request.CustomKeyStoreId !== undefined) {
      throw new KmsError(
        'UnsupportedOperationException',
        'Custom key stores are not supported by the local KMS.',
      );
    }
    if (request.NumberOfBytes === undefined) {
      throw new KmsError(
        'ValidationException',
        "1 validation error detected: Value null at 'numberOfBytes' failed to satisfy constraint: " +
          'Member must not be null',
      );
    }
    return { Plaintext: encodeBlob(randomBytes(request.NumberOfBytes)) };
  },
);
