import Type from 'typebox';
import { KmsError } from '../errors.js';
import { resolveKey } from '../resolve.js';
import { KeyIdField } from './common.js';
import { defineStateChange } from './operation.js';

/** CancelKeyDeletion: the key comes back Disabled, as in AWS; enable it with EnableKey. */
export const cancelKeyDeletion = defineStateChange(
  'CancelKeyDeletion',
  Type.Object({ KeyId: KeyIdField }),
  async (request, { region, store, persist }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    if (key.state !== 'PendingDeletion' && key.state !== 'PendingReplicaDeletion')
      throw new KmsError('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
    store.cancelDeletion(key);
    await persist();
    return { KeyId: key.arn };
  },
);
