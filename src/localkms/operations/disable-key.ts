import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { assertNotPendingDeletion, KeyIdField } from './common.js';
import { defineStateChange } from './operation.js';

/** DisableKey: by key id or key ARN; disabling a disabled key is not an error. */
export const disableKey = defineStateChange(
  'DisableKey',
  Type.Object({ KeyId: KeyIdField }),
  async (request, { region, store, persist }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    assertNotPendingDeletion(key);
    key.state = 'Disabled';
    await persist();
    return {};
  },
);
