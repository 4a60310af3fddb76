import Type from 'typebox';
import { MarkerField } from './common.js';
import { defineOperation } from './operation.js';
import { pageFields, pageOf } from './pagination.js';

/** ListKeys: the keys of the region in creation order, keys pending deletion included, as in AWS. */
export const listKeys = defineOperation(
  'ListKeys',
  Type.Object({
    Limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    Marker: Type.Optional(MarkerField),
  }),
  (request, { region, store }) => {
    const page = pageOf(store.keys(region), request.Limit ?? 100, request.Marker, (key) =>
      String(key.seq).padStart(12, '0'),
    );
    return {
      Keys: page.items.map((key) => ({ KeyId: key.keyId, KeyArn: key.arn })),
      ...pageFields(page),
    };
  },
);
