import { KmsError } from '../errors.js';
import type { KmsKey } from '../keystore.js';

/** Rotation needs an enabled key: AWS answers DisabledException for a disabled one. */
export function assertRotatable(key: KmsKey): void {
  if (key.state === 'Disabled') throw new KmsError('DisabledException', `${key.arn} is disabled.`);
  if (key.state === 'PendingDeletion')
    throw new KmsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
}
