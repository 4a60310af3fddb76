import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { assertNotPendingDeletion, KeyIdField } from './common.js';
import { defineStateChange } from './operation.js';

/** UntagResource: removing a tag key the key does not have is not an error. */
export const untagResource = defineStateChange(
  'UntagResource',
  Type.Object({ KeyId: KeyIdField, TagKeys: Type.Array(Type.String({ minLength: 1, maxLength: 128 })) }),
  async (request, { region, store, persist }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    assertNotPendingDeletion(key);
    for (const tagKey of request.TagKeys) key.tags.delete(tagKey);
    await persist();
    return {};
  },
);
