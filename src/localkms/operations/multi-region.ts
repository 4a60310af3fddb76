import { KmsError } from '../errors.js';
import type { KmsKey } from '../kms-key.js';

/** ReplicateKey and UpdatePrimaryRegion act on the primary key of a multi-Region key only. */
export function assertMultiRegionPrimary(key: KmsKey): void {
  if (key.multiRegion !== 'PRIMARY') {
    throw new KmsError(
      'UnsupportedOperationException',
      key.multiRegion === 'REPLICA'
        ? `${key.arn} is a multi-Region replica key; call this operation on its primary key.`
        : `${key.arn} is not a multi-Region key.`,
    );
  }
}
