import Type from 'typebox';
import { aliasArn } from '../names.js';
import { resolveKey } from '../resolve.js';
import { epochSeconds, KeyIdField, MarkerField } from './common.js';
import { defineOperation } from './operation.js';
import { pageFields, pageOf } from './pagination.js';

/**
 * ListAliases: the aliases of the region by name, or of one key. Unlike AWS it
 * lists no `alias/aws/...` aliases, since the emulator has no AWS managed keys.
 */
export const listAliases = defineOperation(
  'ListAliases',
  Type.Object({
    KeyId: Type.Optional(KeyIdField),
    Limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    Marker: Type.Optional(MarkerField),
  }),
  (request, { region, store }) => {
    const keyId =
      request.KeyId === undefined ? undefined : resolveKey(store, region, request.KeyId, 'key').keyId;
    const aliases = store
      .aliases(region)
      .filter((alias) => keyId === undefined || alias.targetKeyId === keyId);
    const page = pageOf(aliases, request.Limit ?? 50, request.Marker, (alias) => alias.name);
    return {
      Aliases: page.items.map((alias) => ({
        AliasName: alias.name,
        AliasArn: aliasArn(region, store.accountId, alias.name),
        TargetKeyId: alias.targetKeyId,
        CreationDate: epochSeconds(alias.creationDate),
        LastUpdatedDate: epochSeconds(alias.lastUpdatedDate),
      })),
      ...pageFields(page),
    };
  },
);
