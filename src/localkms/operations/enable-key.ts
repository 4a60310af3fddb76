import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { assertNotPendingDeletion, KeyIdField } from './common.js';
import { defineStateChange } from './operation.js';

/** EnableKey: by key id or key ARN; enabling an enabled key is not an error. */
export const enableKey = defineStateChange(
  'EnableKey',
  Type.Object({ KeyId: KeyIdField }),
  async (request, { region, store, persist }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    assertNotPendingDeletion(key);
    key.state = 'Enabled';
    await persist();
    return {};
  },
);
