import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { epochSeconds, KeyIdField } from './common.js';
import { defineOperation } from './operation.js';
import { assertRotationApplies } from './rotation-state.js';

/**
 * GetKeyRotationStatus: a key pending deletion reports rotation off; cancelling the deletion
 * restores it, as in AWS.
 */
export const getKeyRotationStatus = defineOperation(
  'GetKeyRotationStatus',
  Type.Object({ KeyId: KeyIdField }),
  (request, { region, store }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    assertRotationApplies(key);
    const enabled =
      key.rotationEnabled && key.state !== 'PendingDeletion' && key.state !== 'PendingReplicaDeletion';
    return {
      KeyRotationEnabled: enabled,
      KeyId: key.arn,
      RotationPeriodInDays: enabled ? key.rotationPeriodInDays : undefined,
      NextRotationDate:
        enabled && key.nextRotationDate !== undefined ? epochSeconds(key.nextRotationDate) : undefined,
    };
  },
);
