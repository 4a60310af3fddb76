import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { assertNotPendingDeletion, KeyIdField } from './common.js';
import { defineStateChange } from './operation.js';

export const updateKeyDescription = defineStateChange(
  'UpdateKeyDescription',
  Type.Object({ KeyId: KeyIdField, Description: Type.String({ maxLength: 8192 }) }),
  async (request, { region, store, persist }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    assertNotPendingDeletion(key);
    key.description = request.Description;
    await persist();
    return {};
  },
);
