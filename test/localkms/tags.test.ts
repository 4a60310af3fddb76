import {
  CreateKeyCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../src/localkms/index.js';
import { expectKmsError, Fixture } from '../support/local-kms.js';

const fixture = new Fixture();
let kms: LocalKms;
let client: KMSClient;

beforeAll(async () => {
  kms = await fixture.start();
  client = fixture.client(kms);
});
afterAll(() => fixture.cleanup());

async function tagsOf(keyId: string): Promise<Record<string, string>> {
  const { Tags } = await client.send(new ListResourceTagsCommand({ KeyId: keyId }));
  return Object.fromEntries(
    (Tags ?? []).map((tag): [string, string] => [tag.TagKey ?? '', tag.TagValue ?? '']),
  );
}

describe('tags', () => {
  it('keeps the tags given at creation, adds, replaces and removes tags', async () => {
    const { KeyMetadata } = await client.send(
      new CreateKeyCommand({ Tags: [{ TagKey: 'env', TagValue: 'dev' }] }),
    );
    const keyId = KeyMetadata?.KeyId ?? '';
    expect(await tagsOf(keyId)).toEqual({ env: 'dev' });

    await client.send(
      new TagResourceCommand({
        KeyId: keyId,
        Tags: [
          { TagKey: 'env', TagValue: 'prod' },
          { TagKey: 'team', TagValue: 'core' },
        ],
      }),
    );
    expect(await tagsOf(keyId)).toEqual({ env: 'prod', team: 'core' });

    await client.send(new UntagResourceCommand({ KeyId: keyId, TagKeys: ['env', 'never-set'] }));
    expect(await tagsOf(keyId)).toEqual({ team: 'core' });
    expect(await tagsOf(KeyMetadata?.Arn ?? '')).toEqual({ team: 'core' });
  });

  it('pages ListResourceTags with Limit and Marker', async () => {
    const tags = Array.from({ length: 5 }, (_, i) => ({ TagKey: `k${i}`, TagValue: `v${i}` }));
    const keyId = (await client.send(new CreateKeyCommand({ Tags: tags }))).KeyMetadata?.KeyId ?? '';
    const first = await client.send(new ListResourceTagsCommand({ KeyId: keyId, Limit: 2 }));
    expect(first.Tags?.map((t) => t.TagKey)).toEqual(['k0', 'k1']);
    expect(first.Truncated).toBe(true);
    const second = await client.send(
      new ListResourceTagsCommand({ KeyId: keyId, Limit: 2, Marker: first.NextMarker }),
    );
    const third = await client.send(
      new ListResourceTagsCommand({ KeyId: keyId, Limit: 2, Marker: second.NextMarker }),
    );
    expect([...(second.Tags ?? []), ...(third.Tags ?? [])].map((t) => t.TagKey)).toEqual(['k2', 'k3', 'k4']);
    expect(third.Truncated).toBe(false);
    await expectKmsError(
      client.send(new ListResourceTagsCommand({ KeyId: keyId, Limit: 51 })),
      'ValidationException',
    );
  });

  it('answers TagException for a reserved aws: prefix or an oversized key', async () => {
    const keyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? '';
    await expectKmsError(
      client.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'aws:owner', TagValue: 'x' }] })),
      'TagException',
    );
    await expectKmsError(
      client.send(
        new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'k'.repeat(129), TagValue: 'x' }] }),
      ),
      'TagException',
    );
    await expectKmsError(
      client.send(new CreateKeyCommand({ Tags: [{ TagKey: 'aws:x', TagValue: 'y' }] })),
      'TagException',
    );
  });

  it('answers LimitExceededException past 50 tags on a key', async () => {
    const fifty = Array.from({ length: 50 }, (_, i) => ({ TagKey: `t${i}`, TagValue: '' }));
    const keyId = (await client.send(new CreateKeyCommand({ Tags: fifty }))).KeyMetadata?.KeyId ?? '';
    await expectKmsError(
      client.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'one-more', TagValue: 'x' }] })),
      'LimitExceededException',
    );
    await client.send(
      new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 't0', TagValue: 'replaced' }] }),
    );
  });

  it('answers KMSInvalidStateException when tagging a key pending deletion, NotFoundException for an unknown key', async () => {
    const keyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? '';
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    await expectKmsError(
      client.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'a', TagValue: 'b' }] })),
      'KMSInvalidStateException',
    );
    await expectKmsError(
      client.send(new ListResourceTagsCommand({ KeyId: '99999999-9999-9999-9999-999999999999' })),
      'NotFoundException',
    );
  });
});
