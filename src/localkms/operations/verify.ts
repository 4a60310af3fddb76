import Type from 'typebox';
import { KmsError } from '../errors.js';
import { resolveKey } from '../resolve.js';
import { verifySignature } from '../signatures.js';
import {
  assertKeyUsage,
  assertUsable,
  CIPHERTEXT_MAX_BYTES,
  decodeBlob,
  DryRunField,
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
 * Verify: a signature that does not verify is KMSInvalidSignatureException
 * (with an empty message, as AWS sends it), never SignatureValid false. A
 * message may be verified as RAW or DIGEST whichever way it was signed.
 */
export const verify = defineOperation(
  'Verify',
  Type.Object({
    KeyId: KeyIdField,
    Message: Type.String(),
    MessageType: Type.Optional(MessageTypeField),
    Signature: Type.String(),
    SigningAlgorithm: SigningAlgorithmField,
    GrantTokens: Type.Optional(GrantTokensField),
    DryRun: Type.Optional(DryRunField),
  }),
  (request, { region, store }) => {
    const message = decodeBlob('Message', request.Message, MESSAGE_MAX_BYTES);
    const signature = decodeBlob('Signature', request.Signature, CIPHERTEXT_MAX_BYTES);
    const key = resolveKey(store, region, request.KeyId, 'key-or-alias');
    assertUsable(key);
    assertKeyUsage(key, 'SIGN_VERIFY', 'Verify');
    const { algorithm, messageType } = signingCheck(
      key,
      request.SigningAlgorithm,
      request.MessageType,
      message,
    );
    stopIfDryRun(request.DryRun);
    const material = { spec: key.keySpec, material: singleMaterial(key) };
    if (!verifySignature(material, algorithm, message, messageType, signature)) {
      throw new KmsError('KMSInvalidSignatureException', '');
    }
    return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: algorithm };
  },
);
