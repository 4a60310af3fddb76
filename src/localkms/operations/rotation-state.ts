import { KmsError } from '../errors.js';
import type { KmsKey } from '../kms-key.js';
import { assertUsable } from './common.js';

/**
 * Rotation changes a key: it needs an enabled symmetric encryption key, and
 * for a multi-Region key its primary, since key material and rotation
 * settings are shared by the whole set.
 */
export function assertRotatable(key: KmsKey): void {
  assertRotationApplies(key);
  assertUsable(key);
  if (key.multiRegion === 'REPLICA') {
    throw new KmsError(
      'UnsupportedOperationException',
      `${key.arn} is a multi-Region replica key: rotation is managed on its primary key.`,
    );
  }
}

/** Only symmetric encryption keys rotate; AWS refuses rotation calls on other specs as unsupported. */
export function assertRotationApplies(key: KmsKey): void {
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') {
    throw new KmsError(
      'UnsupportedOperationException',
      `${key.arn} key spec is ${key.keySpec} which is not valid for this operation.`,
    );
  }
}
