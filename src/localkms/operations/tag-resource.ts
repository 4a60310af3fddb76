import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { assertNotPendingDeletion, KeyIdField, TagsField } from './common.js';
import { defineStateChange } from './operation.js';
import { assertTagLimit, validTags } from './tags.js';

/** TagResource: adds tags or replaces the values of existing tag keys. */
export const tagResource = defineStateChange(
  'TagResource',
  Type.Object({ KeyId: KeyIdField, Tags: TagsField }),
  async (request, { region, store, persist }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    assertNotPendingDeletion(key);
    const tags = validTags(request.Tags);
    assertTagLimit(new Set([...key.tags.keys(), ...tags.keys()]).size);
    for (const [tagKey, value] of tags) key.tags.set(tagKey, value);
    await persist();
    return {};
  },
);
