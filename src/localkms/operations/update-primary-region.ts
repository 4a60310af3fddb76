import Type from 'typebox';
import { KmsError } from '../errors.js';
import { keyArn, REGION_NAME_PATTERN } from '../names.js';
import { resolveKey } from '../resolve.js';
import { assertNotPendingDeletion, KeyIdField } from './common.js';
import { assertMultiRegionPrimary } from './multi-region.js';
import { defineStateChange } from './operation.js';

/**
 * UpdatePrimaryRegion: the replica in PrimaryRegion becomes the primary key
 * and the current primary a replica, at once (AWS shows both Updating for a
 * few seconds). Key states, descriptions, tags and aliases stay with each key.
 */
export const updatePrimaryRegion = defineStateChange(
  'UpdatePrimaryRegion',
  Type.Object({
    KeyId: KeyIdField,
    PrimaryRegion: Type.String({ minLength: 1, maxLength: 32, pattern: REGION_NAME_PATTERN }),
  }),
  async (request, { region, store, persist }) => {
    const primary = resolveKey(store, region, request.KeyId, 'key');
    assertMultiRegionPrimary(primary);
    assertNotPendingDeletion(primary);
    if (request.PrimaryRegion === region) {
      throw new KmsError('ValidationException', `${primary.arn} is already the primary key, in ${region}.`);
    }
    const replica = store.liveKey(request.PrimaryRegion, primary.keyId);
    if (replica?.multiRegion !== 'REPLICA') {
      throw new KmsError(
        'NotFoundException',
        `Key '${keyArn(request.PrimaryRegion, store.accountId, primary.keyId)}' does not exist`,
      );
    }
    assertNotPendingDeletion(replica);
    store.updatePrimaryRegion(primary, replica);
    await persist();
    return {};
  },
);
