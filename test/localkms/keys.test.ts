import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  ListAliasesCommand,
  ListKeysCommand,
  ScheduleKeyDeletionCommand,
  UpdateKeyDescriptionCommand,
  paginateListKeys,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../src/localkms/index.js';
import { expectKmsError, Fixture, createKey } from '../support/local-kms.js';

const fixture = new Fixture();
let kms: LocalKms;
let client: KMSClient;

beforeAll(async () => {
  kms = await fixture.start({ regions: ['us-east-1'], accountId: '123456789012' });
  client = fixture.client(kms);
});
afterAll(() => fixture.cleanup());

const newKeyId = async (description = 'test key') =>
  (await createKey(client, { Description: description })).keyId;

describe('CreateKey and DescribeKey', () => {
  it('creates an enabled symmetric key with AWS metadata', async () => {
    const { KeyMetadata } = await client.send(
      new CreateKeyCommand({ Description: 'orders', Tags: [{ TagKey: 'team', TagValue: 'payments' }] }),
    );
    expect(KeyMetadata).toMatchObject({
      AWSAccountId: '123456789012',
      Description: 'orders',
      Enabled: true,
      KeyState: 'Enabled',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      MultiRegion: false,
    });
    expect(KeyMetadata?.KeyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(KeyMetadata?.Arn).toBe(`arn:aws:kms:us-east-1:123456789012:key/${KeyMetadata?.KeyId}`);
    expect(KeyMetadata?.CreationDate).toBeInstanceOf(Date);
    expect(Math.abs((KeyMetadata?.CreationDate?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
  });

  it('describes a key by key id and by key ARN', async () => {
    const keyId = await newKeyId('by id');
    const byId = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    const byArn = await client.send(new DescribeKeyCommand({ KeyId: byId.KeyMetadata?.Arn }));
    expect(byArn.KeyMetadata?.KeyId).toBe(keyId);
    expect(byArn.KeyMetadata?.Description).toBe('by id');
  });

  it('answers NotFoundException for an unknown key id and for a malformed one', async () => {
    const message = await expectKmsError(
      client.send(new DescribeKeyCommand({ KeyId: '00000000-0000-0000-0000-000000000000' })),
      'NotFoundException',
    );
    expect(message).toContain('does not exist');
    await expectKmsError(client.send(new DescribeKeyCommand({ KeyId: 'not-a-key' })), 'NotFoundException');
    await expectKmsError(
      client.send(new DescribeKeyCommand({ KeyId: 'arn:aws:kms:us-east-1' })),
      'InvalidArnException',
    );
  });

  it('refuses key kinds it does not emulate with UnsupportedOperationException', async () => {
    for (const input of [
      { KeySpec: 'ML_DSA_44', KeyUsage: 'SIGN_VERIFY' },
      { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' },
      { Origin: 'EXTERNAL' },
      { CustomKeyStoreId: 'cks-1234567890abcdef0' },
    ] as const) {
      await expectKmsError(client.send(new CreateKeyCommand(input)), 'UnsupportedOperationException');
    }
  });

  it('refuses a description longer than AWS allows with ValidationException', async () => {
    await expectKmsError(
      client.send(new CreateKeyCommand({ Description: 'x'.repeat(8193) })),
      'ValidationException',
    );
  });
});

describe('ListKeys', () => {
  it('pages with Limit and Marker, and the SDK paginator sees every key once', async () => {
    const own = new Fixture();
    try {
      const server = await own.start();
      const c = own.client(server);
      const created: string[] = [];
      for (let i = 0; i < 7; i++)
        created.push((await c.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? '');

      const first = await c.send(new ListKeysCommand({ Limit: 3 }));
      expect(first.Keys?.map((k) => k.KeyId)).toEqual(created.slice(0, 3));
      expect(first.Truncated).toBe(true);
      expect(first.NextMarker).toBeTruthy();
      const second = await c.send(new ListKeysCommand({ Limit: 3, Marker: first.NextMarker }));
      expect(second.Keys?.map((k) => k.KeyId)).toEqual(created.slice(3, 6));
      const last = await c.send(new ListKeysCommand({ Limit: 3, Marker: second.NextMarker }));
      expect(last.Keys?.map((k) => k.KeyId)).toEqual(created.slice(6));
      expect(last.Truncated).toBe(false);
      expect(last.NextMarker).toBeUndefined();

      const seen: string[] = [];
      for await (const page of paginateListKeys({ client: c, pageSize: 2 }, {}))
        seen.push(...(page.Keys ?? []).map((k) => k.KeyId ?? ''));
      expect(seen).toEqual(created);
      expect(first.Keys?.[0]?.KeyArn).toMatch(/^arn:aws:kms:us-east-1:111122223333:key\//);
    } finally {
      await own.cleanup();
    }
  });

  it('rejects a Limit outside 1–1000 and a marker it did not issue', async () => {
    await expectKmsError(client.send(new ListKeysCommand({ Limit: 0 })), 'ValidationException');
    await expectKmsError(client.send(new ListKeysCommand({ Limit: 1001 })), 'ValidationException');
    await expectKmsError(
      client.send(new ListKeysCommand({ Marker: 'bm90IGEgbWFya2VyIQ==' })),
      'InvalidMarkerException',
    );
  });
});

describe('EnableKey, DisableKey, UpdateKeyDescription', () => {
  it('disables and enables a key', async () => {
    const keyId = await newKeyId();
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    const disabled = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(disabled.KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    await client.send(new EnableKeyCommand({ KeyId: keyId }));
    const enabled = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(enabled.KeyMetadata).toMatchObject({ KeyState: 'Enabled', Enabled: true });
  });

  it('changes the description', async () => {
    const keyId = await newKeyId('before');
    await client.send(new UpdateKeyDescriptionCommand({ KeyId: keyId, Description: 'after' }));
    expect((await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.Description).toBe(
      'after',
    );
  });

  it('answers NotFoundException for an unknown key', async () => {
    await expectKmsError(
      client.send(new EnableKeyCommand({ KeyId: '11111111-2222-3333-4444-555555555555' })),
      'NotFoundException',
    );
    await expectKmsError(
      client.send(new DisableKeyCommand({ KeyId: '11111111-2222-3333-4444-555555555555' })),
      'NotFoundException',
    );
  });
});

describe('ScheduleKeyDeletion and CancelKeyDeletion', () => {
  it('schedules deletion in 30 days by default and reports it in DescribeKey', async () => {
    const keyId = await newKeyId();
    const before = Date.now();
    const scheduled = await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId }));
    expect(scheduled).toMatchObject({ KeyState: 'PendingDeletion', PendingWindowInDays: 30 });
    expect(scheduled.KeyId).toMatch(/^arn:aws:kms:/);
    const days = ((scheduled.DeletionDate?.getTime() ?? 0) - before) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
    const described = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(described.KeyMetadata).toMatchObject({
      KeyState: 'PendingDeletion',
      Enabled: false,
      PendingDeletionWindowInDays: 30,
    });
    expect(described.KeyMetadata?.DeletionDate).toEqual(scheduled.DeletionDate);
  });

  it('accepts a window of 7 to 30 days only', async () => {
    const keyId = await newKeyId();
    await expectKmsError(
      client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 6 })),
      'ValidationException',
    );
    await expectKmsError(
      client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 31 })),
      'ValidationException',
    );
    const scheduled = await client.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }),
    );
    expect(scheduled.PendingWindowInDays).toBe(7);
  });

  it('cancels a deletion and leaves the key disabled, as AWS does', async () => {
    const keyId = await newKeyId();
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    const cancelled = await client.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    expect(cancelled.KeyId).toMatch(new RegExp(`key/${keyId}$`));
    const described = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(described.KeyMetadata?.KeyState).toBe('Disabled');
    expect(described.KeyMetadata?.DeletionDate).toBeUndefined();
  });

  it('answers KMSInvalidStateException to state changes of a key pending deletion', async () => {
    const keyId = await newKeyId();
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    await expectKmsError(client.send(new EnableKeyCommand({ KeyId: keyId })), 'KMSInvalidStateException');
    await expectKmsError(client.send(new DisableKeyCommand({ KeyId: keyId })), 'KMSInvalidStateException');
    await expectKmsError(
      client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId })),
      'KMSInvalidStateException',
    );
    await expectKmsError(
      client.send(new UpdateKeyDescriptionCommand({ KeyId: keyId, Description: 'x' })),
      'KMSInvalidStateException',
    );
  });

  it('answers KMSInvalidStateException to CancelKeyDeletion of a key not pending deletion', async () => {
    const keyId = await newKeyId();
    const message = await expectKmsError(
      client.send(new CancelKeyDeletionCommand({ KeyId: keyId })),
      'KMSInvalidStateException',
    );
    expect(message).toContain('is not pending deletion');
  });

  it('deletes the key and its aliases for good once the window is over', async () => {
    let now = Date.UTC(2030, 0, 1);
    const own = new Fixture();
    try {
      const server = await own.start({ clock: () => now });
      const c = own.client(server);
      const keyId = (await c.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? '';
      await c.send(new CreateAliasCommand({ AliasName: 'alias/doomed', TargetKeyId: keyId }));
      await c.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
      now += 6 * 86_400_000;
      expect((await c.send(new DescribeKeyCommand({ KeyId: 'alias/doomed' }))).KeyMetadata?.KeyState).toBe(
        'PendingDeletion',
      );
      now += 2 * 86_400_000;
      await expectKmsError(c.send(new DescribeKeyCommand({ KeyId: keyId })), 'NotFoundException');
      await expectKmsError(c.send(new DescribeKeyCommand({ KeyId: 'alias/doomed' })), 'NotFoundException');
      expect((await c.send(new ListKeysCommand({}))).Keys).toEqual([]);
      expect((await c.send(new ListAliasesCommand({}))).Aliases).toEqual([]);
      await c.send(
        new CreateAliasCommand({
          AliasName: 'alias/doomed',
          TargetKeyId: (await c.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId,
        }),
      );
    } finally {
      await own.cleanup();
    }
  });
});
