import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { KeyIdField } from './common.js';
import { defineStateChange } from './operation.js';
import { assertRotatable } from './rotation-state.js';

export const disableKeyRotation = defineStateChange(
  'DisableKeyRotation',
  Type.Object({ KeyId: KeyIdField }),
  async (request, { region, store, persist }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    assertRotatable(key);
    store.disableRotation(key);
    await persist();
    return {};
  },
);
