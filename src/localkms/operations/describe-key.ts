import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { GrantTokensField, KeyIdField, keyMetadata } from './common.js';
import { defineOperation } from './operation.js';

/** DescribeKey: any key state, by key id, key ARN, alias name or alias ARN. */
export const describeKey = defineOperation(
  'DescribeKey',
  Type.Object({ KeyId: KeyIdField, GrantTokens: Type.Optional(GrantTokensField) }),
  (request, { region, store }) => ({
    KeyMetadata: keyMetadata(resolveKey(store, region, request.KeyId, 'key-or-alias'), store),
  }),
);
