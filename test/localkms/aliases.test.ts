import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  ListAliasesCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../src/localkms/index.js';
import { expectKmsError, Fixture, createKey } from '../support/local-kms.js';

const fixture = new Fixture();
let kms: LocalKms;
let client: KMSClient;

beforeAll(async () => {
  kms = await fixture.start();
  client = fixture.client(kms);
});
afterAll(() => fixture.cleanup());

const newKey = () => createKey(client);

describe('CreateAlias', () => {
  it('names a key, found by alias name and alias ARN', async () => {
    const { keyId, arn } = await newKey();
    await client.send(new CreateAliasCommand({ AliasName: 'alias/orders', TargetKeyId: arn }));
    expect((await client.send(new DescribeKeyCommand({ KeyId: 'alias/orders' }))).KeyMetadata?.KeyId).toBe(
      keyId,
    );
    const aliasArn = 'arn:aws:kms:us-east-1:111122223333:alias/orders';
    expect((await client.send(new DescribeKeyCommand({ KeyId: aliasArn }))).KeyMetadata?.KeyId).toBe(keyId);
  });

  it('answers AlreadyExistsException for a name in use', async () => {
    const { keyId } = await newKey();
    await client.send(new CreateAliasCommand({ AliasName: 'alias/taken', TargetKeyId: keyId }));
    await expectKmsError(
      client.send(new CreateAliasCommand({ AliasName: 'alias/taken', TargetKeyId: keyId })),
      'AlreadyExistsException',
    );
  });

  it('answers InvalidAliasNameException for the reserved alias/aws/ prefix', async () => {
    const { keyId } = await newKey();
    await expectKmsError(
      client.send(new CreateAliasCommand({ AliasName: 'alias/aws/s3', TargetKeyId: keyId })),
      'InvalidAliasNameException',
    );
  });

  it('answers ValidationException for a name without alias/ or with characters AWS refuses', async () => {
    const { keyId } = await newKey();
    await expectKmsError(
      client.send(new CreateAliasCommand({ AliasName: 'orders', TargetKeyId: keyId })),
      'ValidationException',
    );
    await expectKmsError(
      client.send(new CreateAliasCommand({ AliasName: 'alias/a:b', TargetKeyId: keyId })),
      'ValidationException',
    );
    await expectKmsError(
      client.send(new CreateAliasCommand({ AliasName: `alias/${'x'.repeat(251)}`, TargetKeyId: keyId })),
      'ValidationException',
    );
  });

  it('refuses an alias as target, an unknown key, and a key pending deletion', async () => {
    const { keyId } = await newKey();
    await client.send(new CreateAliasCommand({ AliasName: 'alias/first', TargetKeyId: keyId }));
    await expectKmsError(
      client.send(new CreateAliasCommand({ AliasName: 'alias/second', TargetKeyId: 'alias/first' })),
      'ValidationException',
    );
    await expectKmsError(
      client.send(
        new CreateAliasCommand({
          AliasName: 'alias/ghost',
          TargetKeyId: '01234567-89ab-cdef-0123-456789abcdef',
        }),
      ),
      'NotFoundException',
    );
    const doomed = await newKey();
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: doomed.keyId, PendingWindowInDays: 7 }));
    await expectKmsError(
      client.send(new CreateAliasCommand({ AliasName: 'alias/late', TargetKeyId: doomed.keyId })),
      'KMSInvalidStateException',
    );
  });
});

describe('UpdateAlias and DeleteAlias', () => {
  it('points an alias at another key', async () => {
    const first = await newKey();
    const second = await newKey();
    await client.send(new CreateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: first.keyId }));
    await client.send(new UpdateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: second.keyId }));
    expect((await client.send(new DescribeKeyCommand({ KeyId: 'alias/moving' }))).KeyMetadata?.KeyId).toBe(
      second.keyId,
    );
  });

  it('answers NotFoundException when updating or deleting an unknown alias', async () => {
    const { keyId } = await newKey();
    await expectKmsError(
      client.send(new UpdateAliasCommand({ AliasName: 'alias/nowhere', TargetKeyId: keyId })),
      'NotFoundException',
    );
    await expectKmsError(
      client.send(new DeleteAliasCommand({ AliasName: 'alias/nowhere' })),
      'NotFoundException',
    );
  });

  it('deletes an alias; the key stays', async () => {
    const { keyId } = await newKey();
    await client.send(new CreateAliasCommand({ AliasName: 'alias/short-lived', TargetKeyId: keyId }));
    await client.send(new DeleteAliasCommand({ AliasName: 'alias/short-lived' }));
    await expectKmsError(
      client.send(new DescribeKeyCommand({ KeyId: 'alias/short-lived' })),
      'NotFoundException',
    );
    expect((await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe(
      'Enabled',
    );
  });
});

describe('ListAliases', () => {
  it('lists aliases by name with their target, pages them, and filters by key', async () => {
    const own = new Fixture();
    try {
      const server = await own.start();
      const c = own.client(server);
      const a = (await c.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? '';
      const b = (await c.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? '';
      for (const name of ['alias/c', 'alias/a', 'alias/b'])
        await c.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: a }));
      await c.send(new CreateAliasCommand({ AliasName: 'alias/d', TargetKeyId: b }));

      const first = await c.send(new ListAliasesCommand({ Limit: 2 }));
      expect(first.Aliases?.map((alias) => alias.AliasName)).toEqual(['alias/a', 'alias/b']);
      expect(first.Truncated).toBe(true);
      const rest = await c.send(new ListAliasesCommand({ Limit: 2, Marker: first.NextMarker }));
      expect(rest.Aliases?.map((alias) => alias.AliasName)).toEqual(['alias/c', 'alias/d']);
      expect(rest.Truncated).toBe(false);
      expect(first.Aliases?.[0]).toMatchObject({
        AliasArn: 'arn:aws:kms:us-east-1:111122223333:alias/a',
        TargetKeyId: a,
      });
      expect(first.Aliases?.[0]?.CreationDate).toBeInstanceOf(Date);

      const ofB = await c.send(new ListAliasesCommand({ KeyId: b }));
      expect(ofB.Aliases?.map((alias) => alias.AliasName)).toEqual(['alias/d']);
      await expectKmsError(c.send(new ListAliasesCommand({ Limit: 101 })), 'ValidationException');
    } finally {
      await own.cleanup();
    }
  });
});

describe('operations that take a key id or key ARN only', () => {
  it('refuse an alias with NotFoundException', async () => {
    const { keyId } = await newKey();
    await client.send(new CreateAliasCommand({ AliasName: 'alias/key-only', TargetKeyId: keyId }));
    await expectKmsError(
      client.send(new EnableKeyRotationCommand({ KeyId: 'alias/key-only' })),
      'NotFoundException',
    );
    await expectKmsError(
      client.send(new ScheduleKeyDeletionCommand({ KeyId: 'alias/key-only' })),
      'NotFoundException',
    );
  });
});
