import Type from 'typebox';
import { KmsError } from '../errors.js';
import { requireAlias, resolveKey } from '../resolve.js';
import { assertNotPendingDeletion, KeyIdField } from './common.js';
import { assertAliasName } from './alias-names.js';
import { AliasNameField, isAliasReference } from './create-alias.js';
import { defineStateChange } from './operation.js';

/** UpdateAlias: points an existing alias at another key of the same region. */
export const updateAlias = defineStateChange(
  'UpdateAlias',
  Type.Object({ AliasName: AliasNameField, TargetKeyId: KeyIdField }),
  async (request, { region, store, persist }) => {
    assertAliasName(request.AliasName);
    if (isAliasReference(request.TargetKeyId))
      throw new KmsError('ValidationException', 'Aliases must refer to keys. Not aliases');
    requireAlias(store, region, request.AliasName);
    const key = resolveKey(store, region, request.TargetKeyId, 'key');
    assertNotPendingDeletion(key);
    store.putAlias(region, request.AliasName, key.keyId);
    await persist();
    return {};
  },
);
