import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { KeyIdField, MarkerField } from './common.js';
import { defineOperation } from './operation.js';
import { pageFields, pageOf } from './pagination.js';

/** ListResourceTags: tags sorted by tag key, 50 a page by default. */
export const listResourceTags = defineOperation(
  'ListResourceTags',
  Type.Object({
    KeyId: KeyIdField,
    Limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
    Marker: Type.Optional(MarkerField),
  }),
  (request, { region, store }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    const tags = [...key.tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const page = pageOf(tags, request.Limit ?? 50, request.Marker, ([tagKey]) => tagKey);
    return {
      Tags: page.items.map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
      ...pageFields(page),
    };
  },
);
