import Type from 'typebox';
import { KmsError } from '../errors.js';
import { aliasArn } from '../names.js';
import { resolveKey } from '../resolve.js';
import { assertNotPendingDeletion, KeyIdField } from './common.js';
import { assertAliasName } from './alias-names.js';
import { defineStateChange } from './operation.js';

export const AliasNameField = Type.String({ minLength: 1, maxLength: 256 });

/** CreateAlias: the target is a key id or key ARN of the same region, never another alias. */
export const createAlias = defineStateChange(
  'CreateAlias',
  Type.Object({ AliasName: AliasNameField, TargetKeyId: KeyIdField }),
  async (request, { region, store, persist }) => {
    assertAliasName(request.AliasName);
    if (isAliasReference(request.TargetKeyId))
      throw new KmsError('ValidationException', 'Aliases must refer to keys. Not aliases');
    if (store.liveAlias(region, request.AliasName)) {
      throw new KmsError(
        'AlreadyExistsException',
        `An alias with the name ${aliasArn(region, store.accountId, request.AliasName)} already exists`,
      );
    }
    const key = resolveKey(store, region, request.TargetKeyId, 'key');
    assertNotPendingDeletion(key);
    store.putAlias(region, request.AliasName, key.keyId);
    await persist();
    return {};
  },
);

export function isAliasReference(ref: string): boolean {
  return ref.startsWith('alias/') || /^arn:[^:]*:kms:[^:]*:[^:]*:alias\//.test(ref);
}
