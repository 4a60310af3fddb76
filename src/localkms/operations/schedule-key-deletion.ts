import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { assertNotPendingDeletion, epochSeconds, KeyIdField } from './common.js';
import { defineStateChange } from './operation.js';

/**
 * ScheduleKeyDeletion: the key turns PendingDeletion and is deleted, with its
 * aliases, when the window (7–30 days, 30 by default) is over. A multi-Region
 * primary key with replicas turns PendingReplicaDeletion instead, and its
 * window starts when its last replica is deleted, so the answer has no
 * DeletionDate yet, as in AWS.
 */
export const scheduleKeyDeletion = defineStateChange(
  'ScheduleKeyDeletion',
  Type.Object({
    KeyId: KeyIdField,
    PendingWindowInDays: Type.Optional(Type.Integer({ minimum: 7, maximum: 30 })),
  }),
  async (request, { region, store, persist }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    assertNotPendingDeletion(key);
    const window = request.PendingWindowInDays ?? 30;
    store.scheduleDeletion(key, window);
    await persist();
    return {
      KeyId: key.arn,
      DeletionDate: key.deletionDate === undefined ? undefined : epochSeconds(key.deletionDate),
      KeyState: key.state,
      PendingWindowInDays: window,
    };
  },
);
