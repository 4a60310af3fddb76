import { timingSafeEqual } from 'node:crypto';
import Type from 'typebox';
import { KmsError } from '../errors.js';
import { resolveKey } from '../resolve.js';
import {
  CIPHERTEXT_MAX_BYTES,
  decodeBlob,
  DryRunField,
  GrantTokensField,
  KeyIdField,
  stopIfDryRun,
} from './common.js';
import { MacAlgorithmField, MESSAGE_MAX_BYTES } from './message-members.js';
import { macOf } from './mac.js';
import { defineOperation } from './operation.js';

/**
 * VerifyMac: a MAC that does not match is KMSInvalidMacException (with an
 * empty message, as AWS sends it), never MacValid false.
 */
export const verifyMac = defineOperation(
  'VerifyMac',
  Type.Object({
    Message: Type.String(),
    KeyId: KeyIdField,
    MacAlgorithm: MacAlgorithmField,
    Mac: Type.String(),
    GrantTokens: Type.Optional(GrantTokensField),
    DryRun: Type.Optional(DryRunField),
  }),
  (request, { region, store }) => {
    const message = decodeBlob('Message', request.Message, MESSAGE_MAX_BYTES);
    const given = decodeBlob('Mac', request.Mac, CIPHERTEXT_MAX_BYTES);
    const key = resolveKey(store, region, request.KeyId, 'key-or-alias');
    const expected = macOf(key, request.MacAlgorithm, message, 'VerifyMac');
    stopIfDryRun(request.DryRun);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new KmsError('KMSInvalidMacException', '');
    }
    return { KeyId: key.arn, MacValid: true, MacAlgorithm: request.MacAlgorithm };
  },
);
