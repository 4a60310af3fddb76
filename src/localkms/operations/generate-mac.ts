import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { decodeBlob, DryRunField, encodeBlob, GrantTokensField, KeyIdField, stopIfDryRun } from './common.js';
import { MacAlgorithmField, MESSAGE_MAX_BYTES } from './message-members.js';
import { macOf } from './mac.js';
import { defineOperation } from './operation.js';

/** GenerateMac: the raw HMAC of a message of up to 4096 bytes under an HMAC key. */
export const generateMac = defineOperation(
  'GenerateMac',
  Type.Object({
    Message: Type.String(),
    KeyId: KeyIdField,
    MacAlgorithm: MacAlgorithmField,
    GrantTokens: Type.Optional(GrantTokensField),
    DryRun: Type.Optional(DryRunField),
  }),
  (request, { region, store }) => {
    const message = decodeBlob('Message', request.Message, MESSAGE_MAX_BYTES);
    const key = resolveKey(store, region, request.KeyId, 'key-or-alias');
    const mac = macOf(key, request.MacAlgorithm, message, 'GenerateMac');
    stopIfDryRun(request.DryRun);
    return { Mac: encodeBlob(mac), MacAlgorithm: request.MacAlgorithm, KeyId: key.arn };
  },
);
