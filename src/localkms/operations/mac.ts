import { createHmac } from 'node:crypto';
import { KEY_SPECS, MAC_HASHES, type MacAlgorithm } from '../key-specs.js';
import type { KmsKey } from '../kms-key.js';
import { assertKeyUsage, assertUsable, incompatibleAlgorithm } from './common.js';
import { singleMaterial } from './message-members.js';

/**
 * The HMAC (RFC 2104) GenerateMac and VerifyMac compute, after AWS's checks:
 * the key's state, its usage, then the algorithm against its spec.
 */
export function macOf(key: KmsKey, algorithm: MacAlgorithm, message: Buffer, operation: string): Buffer {
  assertUsable(key);
  assertKeyUsage(key, 'GENERATE_VERIFY_MAC', operation);
  const kind = KEY_SPECS[key.keySpec];
  if (kind.kind !== 'hmac' || kind.macAlgorithm !== algorithm) throw incompatibleAlgorithm(algorithm, key);
  return createHmac(MAC_HASHES[algorithm], singleMaterial(key)).update(message).digest();
}
