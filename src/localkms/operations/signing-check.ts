import { KmsError } from '../errors.js';
import { SIGNING_SCHEMES, signingAlgorithmsOf, type LocalSigningAlgorithm } from '../key-specs.js';
import type { KmsKey } from '../kms-key.js';
import type { MessageKind } from '../signatures.js';
import { incompatibleAlgorithm } from './common.js';
import { assertMessageType } from './message-members.js';

/**
 * What Sign and Verify check once the key is known, in AWS's order: the
 * algorithm against the key spec, the message type, then a digest's length
 * against the algorithm's hash.
 */
export function signingCheck(
  key: KmsKey,
  algorithm: string,
  messageType: string | undefined,
  message: Buffer,
): { algorithm: LocalSigningAlgorithm; messageType: MessageKind } {
  const supported = signingAlgorithmsOf(key.keySpec, key.keyUsage) ?? [];
  const known = supported.find((candidate) => candidate === algorithm);
  if (!known) throw incompatibleAlgorithm(algorithm, key);
  const kind = messageType ?? 'RAW';
  assertMessageType(key, kind);
  if (kind === 'DIGEST' && message.length !== SIGNING_SCHEMES[known].digestBytes) {
    throw new KmsError('ValidationException', `Digest is invalid length for algorithm ${known}.`);
  }
  return { algorithm: known, messageType: kind };
}
