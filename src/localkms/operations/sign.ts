import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { signMessage } from '../signatures.js';
import {
  assertKeyUsage,
  assertUsable,
  decodeBlob,
  DryRunField,
  encodeBlob,
  GrantTokensField,
  KeyIdField,
  stopIfDryRun,
} from './common.js';
import {
  MESSAGE_MAX_BYTES,
  MessageTypeField,
  SigningAlgorithmField,
  singleMaterial,
} from './message-members.js';
import { signingCheck } from './signing-check.js';
import { defineOperation } from './operation.js';

/**
 * Sign: RSASSA-PSS, RSASSA-PKCS1-v1_5 or ECDSA with an asymmetric SIGN_VERIFY
 * key, over a message (RAW, hashed here) or its digest (DIGEST). ECDSA
 * signatures are DER, as AWS returns them.
 */
export const sign = defineOperation(
  'Sign',
  Type.Object({
    KeyId: KeyIdField,
    Message: Type.String(),
    MessageType: Type.Optional(MessageTypeField),
    GrantTokens: Type.Optional(GrantTokensField),
    SigningAlgorithm: SigningAlgorithmField,
    DryRun: Type.Optional(DryRunField),
  }),
  (request, { region, store }) => {
    const message = decodeBlob('Message', request.Message, MESSAGE_MAX_BYTES);
    const key = resolveKey(store, region, request.KeyId, 'key-or-alias');
    assertUsable(key);
    assertKeyUsage(key, 'SIGN_VERIFY', 'Sign');
    const { algorithm, messageType } = signingCheck(
      key,
      request.SigningAlgorithm,
      request.MessageType,
      message,
    );
    stopIfDryRun(request.DryRun);
    const signature = signMessage(
      { spec: key.keySpec, material: singleMaterial(key) },
      algorithm,
      message,
      messageType,
    );
    return { KeyId: key.arn, Signature: encodeBlob(signature), SigningAlgorithm: algorithm };
  },
);
