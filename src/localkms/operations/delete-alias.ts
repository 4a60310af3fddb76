import Type from 'typebox';
import { requireAlias } from '../resolve.js';
import { assertAliasName } from './alias-names.js';
import { AliasNameField } from './create-alias.js';
import { defineStateChange } from './operation.js';

export const deleteAlias = defineStateChange(
  'DeleteAlias',
  Type.Object({ AliasName: AliasNameField }),
  async (request, { region, store, persist }) => {
    assertAliasName(request.AliasName);
    requireAlias(store, region, request.AliasName);
    store.deleteAlias(region, request.AliasName);
    await persist();
    return {};
  },
);
