import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EncryptCommand, GenerateDataKeyCommand, DecryptCommand } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_CREDENTIALS } from '../../src/config/aws.js';
import { KeyCache } from '../../src/keys/cache.js';
import { KeyIntegrityError, KeyNotFoundError, KeyPendingDeletionError } from '../../src/keys/errors.js';
import { KeyService } from '../../src/keys/service.js';
import { startSweeper } from '../../src/keys/sweeper.js';
import { KmsUnavailableError } from '../../src/kms/errors.js';
import { DynamoStore } from '../../src/store/dynamodb.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { ensureTable } from '../../src/store/table.js';
import { kmsError } from '../support/aws-errors.js';
import { auditedLogger, recordKey } from '../support/audit.js';
import { TEST_REGIONS, testConfig } from '../support/config.js';
import { startDynalite, type RunningDynalite } from '../support/dynalite.js';
import { fakeRegionalKms } from '../support/fake-kms.js';

const DAY = 86_400_000;
let dynalite: RunningDynalite;
let raw: DynamoDBDocumentClient;
const closers: (() => void)[] = [];

beforeAll(async () => {
  dynalite = await startDynalite();
  raw = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynalite.endpoint,
      credentials: EMBEDDED_CREDENTIALS,
    }),
  );
});
afterEach(() => {
  while (closers.length) closers.pop()!();
});
afterAll(async () => {
  raw.destroy();
  await dynalite.close();
});

interface Setup {
  cacheTtlMs?: number;
  deletionWindowDays?: number;
  store?: DynamoStore;
  fake?: ReturnType<typeof fakeRegionalKms>;
}

async function setup({
  cacheTtlMs = 60_000,
  deletionWindowDays = 7,
  store: given,
  fake: sharedFake,
}: Setup = {}) {
  const config = testConfig().dynamodb;
  const store =
    given ??
    new DynamoStore({
      config: { ...config, endpoint: dynalite.endpoint },
      credentials: EMBEDDED_CREDENTIALS,
    });
  if (!given) await ensureTable(store.homeClient, config.table_name);
  const fake = sharedFake ?? fakeRegionalKms(TEST_REGIONS);
  const clock = { now: Date.parse('2026-11-22T12:00:00.000Z') };
  const keys = new KeyService({
    store,
    kms: fake.kms,
    cache: new KeyCache({ ttlMs: cacheTtlMs, maxEntries: 100 }),
    dataKeyBytes: 32,
    deletionWindowDays,
    clock: () => clock.now,
    logger: auditedLogger('key-service'),
  });
  closers.push(() => {
    if (!sharedFake) fake.kms.close();
    store.close();
  });
  const item = (id: string) =>
    raw.send(new GetCommand({ TableName: config.table_name, Key: { id } })).then((r) => r.Item);
  const callCount = (
    command: typeof GenerateDataKeyCommand | typeof EncryptCommand | typeof DecryptCommand,
  ) =>
    Object.values(fake.mocks).reduce(
      (sum, mock) => sum + mock.calls().filter((c) => c.args[0] instanceof command).length,
      0,
    );
  return { keys, store, fake, clock, item, callCount, table: config.table_name };
}

/** Base64 of a key, remembered for the log audit. */
const b64 = (key: Uint8Array) => {
  const encoded = Buffer.from(key).toString('base64');
  recordKey(encoded);
  return encoded;
};

describe('KeyService.getKey', () => {
  it('creates a key on first use and returns the same key afterwards', async () => {
    const { keys, item } = await setup({ cacheTtlMs: 0 });
    const first = await keys.getKey('tenant-1');
    expect(first).toHaveLength(32);
    expect(b64(await keys.getKey('tenant-1'))).toBe(b64(first));
    expect(b64(await keys.getKey('tenant-2'))).not.toBe(b64(first));
    const stored = await item('tenant-1');
    expect(Object.keys(stored!.keys).sort()).toEqual([...TEST_REGIONS].sort());
    expect(stored).toMatchObject({ id: 'tenant-1', ctx: 'rkms:id', version: 1, state: 'Enabled' });
  });

  it('shares one in-flight load between concurrent requests for the same id', async () => {
    const { keys, callCount } = await setup();
    const results = await Promise.all(Array.from({ length: 100 }, () => keys.getKey('burst')));
    expect(new Set(results.map(b64)).size).toBe(1);
    expect(callCount(GenerateDataKeyCommand)).toBe(1);
    expect(callCount(EncryptCommand)).toBe(TEST_REGIONS.length - 1);
  });

  it('serves a cached key without calling KMS', async () => {
    const { keys, callCount } = await setup();
    await keys.getKey('cached');
    await keys.getKey('cached');
    expect(callCount(DecryptCommand)).toBe(0);
  });

  it('decrypts an existing key in one region when it is not cached', async () => {
    const { keys, callCount } = await setup({ cacheTtlMs: 0 });
    await keys.getKey('stored');
    await keys.getKey('stored');
    expect(callCount(DecryptCommand)).toBe(1);
  });

  it('binds every KMS call for an id to the context {"rkms:id": id}', async () => {
    const { keys, fake } = await setup({ cacheTtlMs: 0 });
    await keys.getKey('bound-1');
    await keys.getKey('bound-1');
    await keys.getKey('bound-2');
    const calls = Object.values(fake.mocks).flatMap((mock) => mock.calls());
    expect(calls.length).toBeGreaterThanOrEqual(2 * TEST_REGIONS.length + 1);
    for (const call of calls) {
      const input = call.args[0].input as { EncryptionContext?: Record<string, string> };
      expect(['bound-1', 'bound-2'].map((id) => ({ 'rkms:id': id }))).toContainEqual(input.EncryptionContext);
    }
  });

  it('never treats a store read error as "not found": no key is generated', async () => {
    const config = testConfig().dynamodb;
    const store = new DynamoStore({
      config: { ...config, endpoint: dynalite.endpoint },
      credentials: EMBEDDED_CREDENTIALS,
    });
    await ensureTable(store.homeClient, config.table_name);
    const { keys, callCount } = await setup({ store });
    const dynamo = mockClient(DynamoDBDocumentClient);
    try {
      dynamo.on(GetCommand).rejects(
        Object.assign(new Error('Throughput exceeds the current capacity'), {
          name: 'ProvisionedThroughputExceededException',
        }),
      );
      await expect(keys.getKey('unlucky')).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(callCount(GenerateDataKeyCommand)).toBe(0);
      expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
    } finally {
      dynamo.restore();
    }
  });

  it('writes nothing when a region cannot protect the new key', async () => {
    const { keys, fake, item } = await setup();
    fake.mocks['us-west-1']!.on(EncryptCommand).rejects(kmsError('ThrottlingException', 'Rate exceeded'));
    const failure = keys.getKey('half-made');
    await expect(failure).rejects.toBeInstanceOf(KmsUnavailableError);
    await expect(failure).rejects.toThrow(/us-west-1: Encrypt: ThrottlingException/);
    expect(await item('half-made')).toBeUndefined();
  });

  it("returns the winner's key to a writer that loses the creation race, and keeps the winner's item", async () => {
    const us = await setup();
    // The rival is another replica: its own table here, the same KMS, so its ciphertexts decrypt for us.
    const rival = await setup({ fake: us.fake });
    const winnerKey = await rival.keys.getKey('contested');
    const winnerItem = await rival.item('contested');

    us.fake.mocks['us-east-1']!.on(GenerateDataKeyCommand).callsFake(async (input) => {
      // The rival's conditional put lands while our key is being generated.
      await raw.send(new PutCommand({ TableName: us.table, Item: winnerItem }));
      return {
        Plaintext: new Uint8Array(32).fill(9),
        CiphertextBlob: new Uint8Array([1, 2, 3]),
        KeyId: input.KeyId,
      };
    });
    expect(b64(await us.keys.getKey('contested'))).toBe(b64(winnerKey));
    expect(await us.item('contested')).toEqual(winnerItem);
  });

  it('refuses an item whose ciphertexts were copied from another id, and reports it', async () => {
    const { keys, item, table } = await setup({ cacheTtlMs: 0 });
    await keys.getKey('victim');
    const stolen = await item('victim');
    await raw.send(new PutCommand({ TableName: table, Item: { ...stolen, id: 'attacker' } }));
    const failure = keys.getKey('attacker');
    await expect(failure).rejects.toBeInstanceOf(KeyIntegrityError);
    await expect(failure).rejects.toThrow(/copied from another id, or altered/);
  });

  it('serves an item in the original RKMS format, decrypted without a context', async () => {
    const { keys, fake, table } = await setup({ cacheTtlMs: 0 });
    const legacyKey = new Uint8Array(32).fill(42);
    const legacyKeys = Object.fromEntries(
      TEST_REGIONS.map((region) => [
        region,
        Buffer.from(fake.sealWithoutContext(region, legacyKey)).toString('base64'),
      ]),
    );
    await raw.send(new PutCommand({ TableName: table, Item: { id: 'from-go', keys: legacyKeys } }));
    expect(b64(await keys.getKey('from-go'))).toBe(b64(legacyKey));
  });
});

describe('KeyService deletion', () => {
  it('refuses a pending key, restores the same key, and frees the id after the deletion date', async () => {
    const { keys, clock, item } = await setup({ deletionWindowDays: 7 });
    const original = b64(await keys.getKey('doomed'));

    const status = await keys.scheduleDeletion('doomed');
    expect(status).toEqual({
      id: 'doomed',
      state: 'PendingDeletion',
      deletionDate: '2026-11-29T12:00:00.000Z',
    });
    await expect(keys.getKey('doomed')).rejects.toBeInstanceOf(KeyPendingDeletionError);
    // Deleting again changes nothing.
    expect(await keys.scheduleDeletion('doomed')).toEqual(status);

    expect(await keys.restore('doomed')).toEqual({ id: 'doomed', state: 'Enabled' });
    expect(b64(await keys.getKey('doomed'))).toBe(original);

    await keys.scheduleDeletion('doomed');
    clock.now += 7 * DAY - 1;
    await expect(keys.getKey('doomed')).rejects.toBeInstanceOf(KeyPendingDeletionError);
    clock.now += 1;
    const replacement = b64(await keys.getKey('doomed'));
    expect(replacement).not.toBe(original);
    expect((await item('doomed'))!.version).toBe(1);
  });

  it('cannot restore a key whose deletion date has passed', async () => {
    const { keys, clock, item } = await setup();
    await keys.getKey('late');
    await keys.scheduleDeletion('late');
    clock.now += 8 * DAY;
    await expect(keys.restore('late')).rejects.toThrow(/the key was deleted on 2026-11-29T12:00:00.000Z/);
    expect(await item('late')).toBeUndefined();
  });

  it('answers "not found" for ids without a key', async () => {
    const { keys } = await setup();
    await expect(keys.scheduleDeletion('never')).rejects.toBeInstanceOf(KeyNotFoundError);
    await expect(keys.restore('never')).rejects.toBeInstanceOf(KeyNotFoundError);
  });

  it('deletes at once with a zero window and no cache', async () => {
    const { keys, item } = await setup({ deletionWindowDays: 0, cacheTtlMs: 0 });
    const before = b64(await keys.getKey('now'));
    expect(await keys.scheduleDeletion('now')).toEqual({
      id: 'now',
      state: 'Deleted',
      deletionDate: '2026-11-22T12:00:00.000Z',
    });
    expect(await item('now')).toBeUndefined();
    expect(b64(await keys.getKey('now'))).not.toBe(before);
  });

  it('never destroys a key before the cache TTL has passed, so no replica still serves it', async () => {
    const { keys } = await setup({ deletionWindowDays: 0, cacheTtlMs: 300_000 });
    await keys.getKey('cached-elsewhere');
    expect(await keys.scheduleDeletion('cached-elsewhere')).toEqual({
      id: 'cached-elsewhere',
      state: 'PendingDeletion',
      deletionDate: '2026-11-22T12:05:00.000Z',
    });
    // This replica dropped its own cached copy at once.
    await expect(keys.getKey('cached-elsewhere')).rejects.toBeInstanceOf(KeyPendingDeletionError);
  });

  it('deletes and restores items of the original RKMS format', async () => {
    const { keys, fake, table, item } = await setup({ cacheTtlMs: 0 });
    const legacyKey = new Uint8Array(32).fill(5);
    await raw.send(
      new PutCommand({
        TableName: table,
        Item: {
          id: 'go-item',
          keys: {
            'us-east-1': Buffer.from(fake.sealWithoutContext('us-east-1', legacyKey)).toString('base64'),
          },
        },
      }),
    );
    await keys.scheduleDeletion('go-item');
    await keys.restore('go-item');
    expect(b64(await keys.getKey('go-item'))).toBe(b64(legacyKey));
    expect((await item('go-item'))!.ctx).toBeUndefined();
  });

  it('sweeps the keys whose deletion date has passed, and only those', async () => {
    const { keys, clock, item } = await setup();
    for (const id of ['sweep-a', 'sweep-b', 'sweep-keep']) await keys.getKey(id);
    await keys.scheduleDeletion('sweep-a');
    await keys.scheduleDeletion('sweep-b');
    clock.now += 3 * DAY;
    await keys.scheduleDeletion('sweep-keep');
    clock.now += 5 * DAY;
    expect((await keys.sweep()).sort()).toEqual(['sweep-a', 'sweep-b']);
    expect(await item('sweep-a')).toBeUndefined();
    expect((await item('sweep-keep'))!.state).toBe('PendingDeletion');
  });
});

describe('the periodic sweep', () => {
  it('destroys keys past their deletion date without anyone asking for them', async () => {
    const { keys, clock, item } = await setup();
    await keys.getKey('forgotten');
    await keys.scheduleDeletion('forgotten');
    clock.now += 8 * DAY;
    const sweeper = startSweeper(keys, 20);
    try {
      await expect.poll(() => item('forgotten'), { timeout: 5_000, interval: 20 }).toBeUndefined();
    } finally {
      sweeper?.stop();
    }
  });

  it('is off when the interval is 0', async () => {
    const { keys } = await setup();
    expect(startSweeper(keys, 0)).toBeUndefined();
  });
});
