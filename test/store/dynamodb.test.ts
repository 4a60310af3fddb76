import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_CREDENTIALS } from '../../src/config/aws.js';
import { DynamoStore } from '../../src/store/dynamodb.js';
import { MalformedItemError, StoreUnavailableError, VersionConflictError } from '../../src/store/store.js';
import { ensureTable } from '../../src/store/table.js';
import { testConfig } from '../support/config.js';
import { startDynalite, type RunningDynalite } from '../support/dynalite.js';

let dynalite: RunningDynalite;
let store: DynamoStore;
let raw: DynamoDBDocumentClient;
const config = testConfig().dynamodb;

const blob = (text: string) => new Uint8Array(Buffer.from(text));

beforeAll(async () => {
  dynalite = await startDynalite();
  store = new DynamoStore({
    config: { ...config, endpoint: dynalite.endpoint },
    credentials: EMBEDDED_CREDENTIALS,
  });
  await ensureTable(store.homeClient, config.table_name);
  raw = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynalite.endpoint,
      credentials: EMBEDDED_CREDENTIALS,
    }),
  );
});

afterAll(async () => {
  store.close();
  raw.destroy();
  await dynalite.close();
});

describe('DynamoStore', () => {
  it('creates an item bound to its id, in the original attribute names', async () => {
    expect(
      await store.create({
        id: 'a',
        ciphertexts: { 'us-east-1': blob('one') },
        createdAt: '2026-01-01T00:00:00.000Z',
      }),
    ).toBe('created');
    const record = await store.get('a');
    expect(record).toMatchObject({
      id: 'a',
      boundToId: true,
      version: 1,
      state: 'Enabled',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(Buffer.from(record!.ciphertexts['us-east-1']!).toString()).toBe('one');
  });

  it('lets the first writer win and never overwrites an existing item', async () => {
    await store.create({ id: 'race', ciphertexts: { 'us-east-1': blob('first') }, createdAt: 'x' });
    expect(
      await store.create({ id: 'race', ciphertexts: { 'us-east-1': blob('second') }, createdAt: 'y' }),
    ).toBe('exists');
    expect(Buffer.from((await store.get('race'))!.ciphertexts['us-east-1']!).toString()).toBe('first');
  });

  it('answers undefined only for an id that has no item', async () => {
    expect(await store.get('nobody')).toBeUndefined();
  });

  it("reads the original RKMS's items: {id, keys: {region: base64}} with no context, no version", async () => {
    await raw.send(
      new PutCommand({
        TableName: config.table_name,
        Item: { id: 'legacy', keys: { 'us-east-2': Buffer.from('old').toString('base64') } },
      }),
    );
    const record = await store.get('legacy');
    expect(record).toMatchObject({ id: 'legacy', boundToId: false, version: 0, state: 'Enabled' });
    expect(Buffer.from(record!.ciphertexts['us-east-2']!).toString()).toBe('old');
  });

  it('schedules and cancels deletion conditionally on the version, legacy items included', async () => {
    await raw.send(
      new PutCommand({
        TableName: config.table_name,
        Item: { id: 'old-del', keys: { 'us-east-1': 'AAAA' } },
      }),
    );
    const pending = await store.scheduleDeletion('old-del', 0, '2030-01-01T00:00:00.000Z');
    expect(pending).toMatchObject({
      state: 'PendingDeletion',
      deletionDate: '2030-01-01T00:00:00.000Z',
      version: 1,
      boundToId: false,
    });
    await expect(store.scheduleDeletion('old-del', 0, '2031-01-01T00:00:00.000Z')).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    await expect(store.cancelDeletion('old-del', 7)).rejects.toBeInstanceOf(VersionConflictError);
    const enabled = await store.cancelDeletion('old-del', 1);
    expect(enabled).toMatchObject({ state: 'Enabled', version: 2 });
    expect(enabled.deletionDate).toBeUndefined();
  });

  it('purges only a pending item still at the expected version', async () => {
    await store.create({ id: 'p', ciphertexts: { 'us-east-1': blob('k') }, createdAt: 'x' });
    expect(await store.purge('p', 1)).toBe(false); // not pending
    await store.scheduleDeletion('p', 1, '2020-01-01T00:00:00.000Z');
    expect(await store.purge('p', 1)).toBe(false); // stale version
    const pendingIds = [];
    for await (const record of store.pendingDeletion()) pendingIds.push(record.id);
    expect(pendingIds).toContain('p');
    expect(await store.purge('p', 2)).toBe(true);
    expect(await store.get('p')).toBeUndefined();
  });

  it('does not update an item that does not exist', async () => {
    await expect(store.scheduleDeletion('ghost', 0, '2030-01-01T00:00:00.000Z')).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    expect(await store.get('ghost')).toBeUndefined();
  });

  it.each([
    ['keys is not a map', { keys: 'nope' }],
    ['a ciphertext is not base64', { keys: { 'us-east-1': 'not base64!' } }],
    ['keys is empty', { keys: {} }],
    ['an unknown state', { keys: { 'us-east-1': 'AAAA' }, state: 'Gone' }],
    ['an unexpected ctx', { keys: { 'us-east-1': 'AAAA' }, ctx: 'other' }],
  ])('reports a malformed item (%s) instead of guessing', async (_label, attributes) => {
    const id = `bad-${Math.random()}`;
    await raw.send(new PutCommand({ TableName: config.table_name, Item: { id, ...attributes } }));
    await expect(store.get(id)).rejects.toBeInstanceOf(MalformedItemError);
  });

  it('creates the table once and accepts an existing one', async () => {
    await ensureTable(store.homeClient, config.table_name);
    const other = new DynamoStore({
      config: { ...config, table_name: 'fresh_table', endpoint: dynalite.endpoint },
      credentials: EMBEDDED_CREDENTIALS,
    });
    await expect(other.get('x')).rejects.toBeInstanceOf(StoreUnavailableError);
    await ensureTable(other.homeClient, 'fresh_table');
    expect(await other.get('x')).toBeUndefined();
    other.close();
  });
});

describe('DynamoStore failures', () => {
  it('reports an unreachable store as unavailable, never as "not found"', async () => {
    const down = new DynamoStore({
      config: { ...config, endpoint: 'http://127.0.0.1:9', max_attempts: 1, timeout_ms: 500 },
      credentials: EMBEDDED_CREDENTIALS,
    });
    const failure = down.get('anything');
    await expect(failure).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(failure).rejects.toThrow(/DynamoDB table rkms_test_\w+ in us-east-1/);
    await expect(
      down.create({ id: 'x', ciphertexts: { 'us-east-1': blob('k') }, createdAt: 'x' }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
    down.close();
  });

  it('reports a missing table as unavailable', async () => {
    const missing = new DynamoStore({
      config: { ...config, table_name: 'no_such_table', endpoint: dynalite.endpoint },
      credentials: EMBEDDED_CREDENTIALS,
    });
    await expect(missing.get('x')).rejects.toThrow(/ResourceNotFoundException/);
    missing.close();
  });
});

describe('DynamoStore with a read replica', () => {
  it('reads from the replica, and confirms "not found" in the home region before answering it', async () => {
    const replica = await startDynalite();
    const home = new DynamoStore({
      config: { ...config, endpoint: dynalite.endpoint },
      credentials: EMBEDDED_CREDENTIALS,
    });
    const split = new DynamoStore({
      config: {
        ...config,
        endpoint: dynalite.endpoint,
        read_region: 'us-west-2',
        read_endpoint: replica.endpoint,
      },
      credentials: EMBEDDED_CREDENTIALS,
    });
    const onReplica = new DynamoStore({
      config: { ...config, endpoint: replica.endpoint },
      credentials: EMBEDDED_CREDENTIALS,
    });
    try {
      await ensureTable(onReplica.homeClient, config.table_name);
      // Written in the home region, not replicated yet: the home region still finds it.
      await home.create({ id: 'fresh', ciphertexts: { 'us-east-1': blob('home') }, createdAt: 'x' });
      expect(Buffer.from((await split.get('fresh'))!.ciphertexts['us-east-1']!).toString()).toBe('home');
      // Replicated: served by the replica (its copy differs here, to tell them apart).
      await onReplica.create({ id: 'fresh', ciphertexts: { 'us-east-1': blob('replica') }, createdAt: 'x' });
      expect(Buffer.from((await split.get('fresh'))!.ciphertexts['us-east-1']!).toString()).toBe('replica');
      expect(await split.get('nowhere')).toBeUndefined();
      // Writes always go to the home region.
      await split.create({ id: 'written', ciphertexts: { 'us-east-1': blob('w') }, createdAt: 'x' });
      expect(await home.get('written')).toBeDefined();
      expect(await onReplica.get('written')).toBeUndefined();
    } finally {
      for (const store of [home, split, onReplica]) store.close();
      await replica.close();
    }
  });
});
