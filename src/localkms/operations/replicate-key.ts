import Type from 'typebox';
import { KmsError } from '../errors.js';
import { partitionOf, REGION_NAME_PATTERN } from '../names.js';
import { resolveKey } from '../resolve.js';
import { assertNotPendingDeletion, KeyIdField, keyMetadata, TagsField } from './common.js';
import { assertMultiRegionPrimary } from './multi-region.js';
import { defineStateChange } from './operation.js';
import { assertTagLimit, validTags } from './tags.js';

/**
 * ReplicateKey: a replica of a multi-Region primary key in another served
 * region, with the same key id and key material, usable at once (AWS shows it
 * Creating for a few seconds first). Its description, tags, policy and
 * aliases are its own; the replica region is any region this local KMS
 * serves, on the same port.
 */
export const replicateKey = defineStateChange(
  'ReplicateKey',
  Type.Object({
    KeyId: KeyIdField,
    ReplicaRegion: Type.String({ minLength: 1, maxLength: 32, pattern: REGION_NAME_PATTERN }),
    Policy: Type.Optional(Type.String({ minLength: 1, maxLength: 131072 })),
    BypassPolicyLockoutSafetyCheck: Type.Optional(Type.Boolean()),
    Description: Type.Optional(Type.String({ maxLength: 8192 })),
    Tags: Type.Optional(TagsField),
  }),
  async (request, { region, regions, store, persist }) => {
    const primary = resolveKey(store, region, request.KeyId, 'key');
    assertMultiRegionPrimary(primary);
    assertNotPendingDeletion(primary);
    const target = request.ReplicaRegion;
    if (target === region) {
      throw new KmsError(
        'ValidationException',
        `${primary.arn} is in ${target}: a replica must be in another Region than its primary key.`,
      );
    }
    if (partitionOf(target) !== partitionOf(region)) {
      throw new KmsError(
        'ValidationException',
        `${target} is in another partition than ${region}: a replica must be in the partition of its primary key.`,
      );
    }
    if (!regions.includes(target)) {
      throw new KmsError(
        'UnsupportedOperationException',
        `ReplicaRegion ${target} is not served by this local KMS (it serves ${regions.join(', ')}).`,
      );
    }
    const existing = store.liveKey(target, primary.keyId);
    if (existing) throw new KmsError('AlreadyExistsException', `Key '${existing.arn}' already exists`);
    const tags = validTags(request.Tags);
    assertTagLimit(tags.size);
    const replica = store.replicate(primary, target, { description: request.Description ?? '', tags });
    await persist();
    return {
      ReplicaKeyMetadata: keyMetadata(replica, store),
      ReplicaPolicy: request.Policy ?? defaultKeyPolicy(target, store.accountId),
      ReplicaTags: [...tags].map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
    };
  },
);

/** The key policy AWS gives a key created without one: the account's root may do everything. */
function defaultKeyPolicy(region: string, accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:${partitionOf(region)}:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  });
}
