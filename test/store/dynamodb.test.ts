import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_CREDENTIALS } from '../../src/cli/embedded.js';
import type { DynamoDbConfig } from '../../src/config/schema.js';
import { deadlineAfter } from '../../src/resilience/deadline.js';
import { DynamoStore } from '../../src/store/dynamodb.js';
import {
  CHANGED,
  MalformedItemError,
  StoreUnavailableError,
  type Changed,
  type KeyRecord,
  type StoredKey,
} from '../../src/store/store.js';
import { ensureTable } from '../../src/store/table.js';
import { testConfig } from '../support/config.js';
import { startDynalite, type RunningDynalite } from '../support/dynalite.js';

let dynalite: RunningDynalite;
let store: DynamoStore;
let raw: DynamoDBDocumentClient;
const config = testConfig().dynamodb;

const blob = (text: string) => new Uint8Array(Buffer.from(text));
const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString();
const storeAt = (overrides: Partial<DynamoDbConfig>) =>
  new DynamoStore({
    config: { ...config, endpoint: dynalite.endpoint, ...overrides },
    clock: Date.now,
    credentials: EMBEDDED_CREDENTIALS,
  });

function asKey(record: KeyRecord | Changed | undefined): StoredKey {
  if (record === CHANGED || (record?.state !== 'Enabled' && record?.state !== 'PendingDeletion')) {
    throw new Error('expected a key');
  }
  return record;
}

const rawItem = async (id: string) =>
  (await raw.send(new GetCommand({ TableName: config.table_name, Key: { id } }))).Item;
const put = (item: Record<string, unknown>) =>
  raw.send(new PutCommand({ TableName: config.table_name, Item: item }));

beforeAll(async () => {
  dynalite = await startDynalite();
  store = storeAt({});
  await ensureTable({ ...config, endpoint: dynalite.endpoint }, { credentials: EMBEDDED_CREDENTIALS });
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
    const created = await store.create({
      id: 'a',
      copies: { 'us-east-1': blob('one') },
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(created).toBe('created');
    const record = asKey(await store.get('a'));
    expect(record).toMatchObject({
      id: 'a',
      boundToId: true,
      version: 1,
      state: 'Enabled',
      malformed: [],
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(text(record.copies['us-east-1'])).toBe('one');
    expect(await rawItem('a')).toMatchObject({
      keys: { 'us-east-1': Buffer.from('one').toString('base64') },
    });
  });

  it('lets the first writer win and never overwrites an existing item', async () => {
    await store.create({ id: 'race', copies: { 'us-east-1': blob('first') }, createdAt: 'x' });
    expect(await store.create({ id: 'race', copies: { 'us-east-1': blob('second') }, createdAt: 'y' })).toBe(
      'exists',
    );
    expect(text(asKey(await store.get('race')).copies['us-east-1'])).toBe('first');
  });

  it('answers undefined only for an id that has no item', async () => {
    expect(await store.get('nobody')).toBeUndefined();
  });

  it("reads the original RKMS's items: {id, keys: {region: base64}} with no context, no version", async () => {
    await put({ id: 'legacy', keys: { 'us-east-2': Buffer.from('old').toString('base64') } });
    const record = asKey(await store.get('legacy'));
    expect(record).toMatchObject({ id: 'legacy', boundToId: false, version: 0, state: 'Enabled' });
    expect(text(record.copies['us-east-2'])).toBe('old');
  });

  it('schedules and cancels deletion conditionally on the version, legacy items included', async () => {
    await put({ id: 'old-del', keys: { 'us-east-1': 'AAAA' } });
    const legacy = asKey(await store.get('old-del'));
    const pending = await store.scheduleDeletion(legacy, '2030-01-01T00:00:00.000Z');
    expect(pending).toMatchObject({
      state: 'PendingDeletion',
      deletionDate: '2030-01-01T00:00:00.000Z',
      version: 1,
      boundToId: false,
    });
    expect(await store.scheduleDeletion(legacy, '2031-01-01T00:00:00.000Z')).toBe(CHANGED);
    expect(await store.cancelDeletion({ ...legacy, version: 7 })).toBe(CHANGED);
    const enabled = asKey(await store.cancelDeletion(asKey(pending)));
    expect(enabled).toMatchObject({ state: 'Enabled', version: 2 });
    expect(enabled.deletionDate).toBeUndefined();
  });

  it('destroys only a pending item still at the version read, leaving a tombstone', async () => {
    await store.create({ id: 'p', copies: { 'us-east-1': blob('k') }, createdAt: 'x' });
    const enabled = asKey(await store.get('p'));
    expect(await store.destroy(enabled)).toBe(CHANGED); // not pending
    const pending = asKey(await store.scheduleDeletion(enabled, '2020-01-01T00:00:00.000Z'));
    expect(await store.destroy(enabled)).toBe(CHANGED); // stale version
    const pendingIds: string[] = [];
    for await (const record of store.scan({ state: 'PendingDeletion' })) {
      if (!(record instanceof MalformedItemError)) pendingIds.push(record.id);
    }
    expect(pendingIds).toContain('p');
    expect(await store.destroy(pending)).toMatchObject({ id: 'p', state: 'Deleted', version: 3 });
    expect(await store.get('p')).toEqual({
      id: 'p',
      state: 'Deleted',
      version: 3,
      createdAt: 'x',
      deletionDate: '2020-01-01T00:00:00.000Z',
    });
    expect((await rawItem('p'))?.keys).toBeUndefined();
  });

  it('creates over a tombstone only while it is that tombstone, with a higher version', async () => {
    await store.create({ id: 't', copies: { 'us-east-1': blob('old') }, createdAt: 'x' });
    const pending = asKey(
      await store.scheduleDeletion(asKey(await store.get('t')), '2020-01-01T00:00:00.000Z'),
    );
    const tombstone = await store.destroy(pending);
    if (tombstone === CHANGED) throw new Error('expected a tombstone');
    expect(await store.create({ id: 't', copies: { 'us-east-1': blob('new') }, createdAt: 'y' })).toBe(
      'exists',
    );
    expect(
      await store.create(
        { id: 't', copies: { 'us-east-1': blob('new') }, createdAt: 'y' },
        { replacing: tombstone },
      ),
    ).toBe('created');
    expect(
      await store.create(
        { id: 't', copies: { 'us-east-1': blob('newer') }, createdAt: 'z' },
        { replacing: tombstone },
      ),
    ).toBe('exists');
    const recreated = asKey(await store.get('t'));
    expect(text(recreated.copies['us-east-1'])).toBe('new');
    expect(recreated.version).toBe(tombstone.version + 1);
  });

  it("adds or replaces one region's copy and nothing else, only at the version read", async () => {
    await store.create({
      id: 'r',
      copies: { 'us-east-1': blob('one'), 'us-east-2': blob('two') },
      createdAt: 'x',
    });
    const before = asKey(await store.get('r'));
    const added = asKey(await store.putCopy(before, 'us-west-1', blob('three')));
    expect(Object.fromEntries(Object.entries(added.copies).map(([r, c]) => [r, text(c)]))).toEqual({
      'us-east-1': 'one',
      'us-east-2': 'two',
      'us-west-1': 'three',
    });
    expect(added.version).toBe(2);
    expect(await store.putCopy(before, 'us-east-1', blob('stale'))).toBe(CHANGED);
    const replaced = asKey(await store.putCopy(added, 'us-east-1', blob('uno')));
    expect(text(replaced.copies['us-east-1'])).toBe('uno');
    expect(text(replaced.copies['us-east-2'])).toBe('two');
  });

  it('does not update an item that does not exist', async () => {
    const ghost: StoredKey = {
      id: 'ghost',
      state: 'Enabled',
      version: 0,
      copies: {},
      malformed: [],
      boundToId: true,
    };
    expect(await store.scheduleDeletion(ghost, '2030-01-01T00:00:00.000Z')).toBe(CHANGED);
    expect(await store.putCopy(ghost, 'us-east-1', blob('x'))).toBe(CHANGED);
    expect(await store.get('ghost')).toBeUndefined();
  });

  it('reads an item whose copy in one region is not base64, naming that region as malformed', async () => {
    await put({
      id: 'partly',
      keys: { 'us-east-1': 'not base64!', 'us-east-2': 'AAAA', 'us-west-1': 7 },
      ctx: 'rkms:id',
    });
    const record = asKey(await store.get('partly'));
    expect(Object.keys(record.copies)).toEqual(['us-east-2']);
    expect(record.malformed).toEqual(['us-east-1', 'us-west-1']);
  });

  it.each([
    ['keys is not a map', { keys: 'nope' }],
    ['keys is empty', { keys: {} }],
    ['an unknown state', { keys: { 'us-east-1': 'AAAA' }, state: 'Gone' }],
    ['an unexpected ctx', { keys: { 'us-east-1': 'AAAA' }, ctx: 'other' }],
    ['a negative version', { keys: { 'us-east-1': 'AAAA' }, version: -1 }],
  ])('reports a malformed item (%s) instead of guessing', async (_label, attributes) => {
    const id = `bad-${Math.random()}`;
    await put({ id, ...attributes });
    await expect(store.get(id)).rejects.toBeInstanceOf(MalformedItemError);
    const scanned = [];
    for await (const record of store.scan()) if (record.id === id) scanned.push(record);
    expect(scanned).toHaveLength(1);
    expect(scanned[0]).toBeInstanceOf(MalformedItemError);
  });

  it('has no size estimate for a table it cannot describe, and does not trip its circuit for it', async () => {
    // dynalite reports ItemCount 0, as DynamoDB does before it first counts: no estimate either.
    expect(await store.approximateCount()).toBeUndefined();
    const missing = storeAt({ table_name: 'no_table_here' });
    expect(await missing.approximateCount()).toBeUndefined();
    // Outside the circuit: the missing table did not trip it.
    expect(missing.health.circuit).toBe('closed');
    missing.close();
  });

  it('creates the table once and accepts an existing one', async () => {
    await ensureTable({ ...config, endpoint: dynalite.endpoint }, { credentials: EMBEDDED_CREDENTIALS });
    const other = storeAt({ table_name: 'fresh_table' });
    await expect(other.get('x')).rejects.toBeInstanceOf(StoreUnavailableError);
    await ensureTable(
      { ...config, table_name: 'fresh_table', endpoint: dynalite.endpoint },
      { credentials: EMBEDDED_CREDENTIALS },
    );
    // The missing table tripped the circuit as a misconfiguration; a new store starts closed.
    const fresh = storeAt({ table_name: 'fresh_table' });
    expect(await fresh.get('x')).toBeUndefined();
    other.close();
    fresh.close();
  });
});

describe('DynamoStore failures', () => {
  it('reports an unreachable store as unavailable, never as "not found", without an endpoint', async () => {
    const down = storeAt({ endpoint: 'http://127.0.0.1:9', max_attempts: 1, timeout_ms: 500 });
    const failure = down.get('anything');
    await expect(failure).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(failure).rejects.toThrow(/^the key store is unavailable: read: connection refused$/);
    await expect(
      down.create({ id: 'x', copies: { 'us-east-1': blob('k') }, createdAt: 'x' }),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
    down.close();
  });

  it('reports a missing table as unavailable, naming what is wrong', async () => {
    const missing = storeAt({ table_name: 'no_such_table' });
    await expect(missing.get('x')).rejects.toThrow(/table not found \(ResourceNotFoundException\)/);
    missing.close();
  });

  it('opens its circuit after repeated failures and then answers at once, until a probe succeeds', async () => {
    const sockets = new Set<Socket>();
    let refuse = true;
    const flaky: Server = createServer((socket) => {
      sockets.add(socket);
      if (refuse) socket.destroy();
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const clock = { now: 0 };
    const guarded = new DynamoStore({
      config: {
        ...config,
        endpoint: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`,
        max_attempts: 1,
        circuit: { failure_rate_percent: 50, minimum_calls: 3, window_ms: 10_000, reset_after_ms: 1_000 },
      },
      clock: () => clock.now,
      credentials: EMBEDDED_CREDENTIALS,
    });
    try {
      for (let i = 0; i < 3; i++) await expect(guarded.get('x')).rejects.toThrow(/connection/);
      expect(guarded.health.circuit).toBe('open');
      const before = sockets.size;
      await expect(guarded.get('x')).rejects.toThrow(/circuit open after repeated failures/);
      expect(sockets.size).toBe(before); // not even a connection
      clock.now += 1_000;
      expect(guarded.health.circuit).toBe('half-open');
      await expect(guarded.get('x')).rejects.toThrow(/connection/); // the probe fails: open again
      expect(guarded.health.circuit).toBe('open');
      expect(guarded.health.lastFailure?.reason).toMatch(/^read: connection/);
    } finally {
      refuse = false;
      for (const socket of sockets) socket.destroy();
      flaky.close();
      guarded.close();
    }
  });
});

describe('DynamoStore with a hung table', () => {
  let hung: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Accepts connections and never answers, as a stopped process does.
    hung = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    hung.close();
  });
  const hungStore = (timeoutMs: number) =>
    new DynamoStore({
      config: {
        ...config,
        endpoint: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`,
        timeout_ms: timeoutMs,
        max_attempts: 3,
        circuit: { failure_rate_percent: 50, minimum_calls: 3, window_ms: 60_000, reset_after_ms: 60_000 },
      },
      clock: () => 0,
      credentials: EMBEDDED_CREDENTIALS,
    });

  it('opens its circuit after calls the deadline cut off past an attempt timeout, then answers at once', async () => {
    // Three attempts of 200 ms add up to more than the 400 ms deadline: the SDK never gives up first.
    const store = hungStore(200);
    try {
      const cutOff = await Promise.allSettled(['a', 'b', 'c'].map((id) => store.get(id, deadlineAfter(400))));
      for (const outcome of cutOff) {
        expect(outcome.status).toBe('rejected');
        expect(String((outcome as PromiseRejectedResult).reason)).toMatch(
          /read: no answer before the request deadline/,
        );
      }
      expect(store.health.circuit).toBe('open');
      expect(store.health.lastFailure?.reason).toMatch(/^read: no answer within \d+ ms$/);
      const connections = sockets.size;
      await expect(store.get('d', deadlineAfter(400))).rejects.toThrow(
        /circuit open after repeated failures/,
      );
      expect(sockets.size).toBe(connections);
    } finally {
      store.close();
    }
  });

  it('does not blame the store for a deadline that fired before an attempt could time out', async () => {
    const store = hungStore(5_000);
    try {
      for (let i = 0; i < 4; i++) {
        await expect(store.get('x', deadlineAfter(50))).rejects.toThrow(
          /no answer before the request deadline/,
        );
      }
      expect(store.health.circuit).toBe('closed');
    } finally {
      store.close();
    }
  });
});

describe('DynamoStore with a read replica', () => {
  it('reads from the replica, and confirms "not found" in the home region before answering it', async () => {
    const replica = await startDynalite();
    const home = storeAt({});
    const split = storeAt({ read_region: 'us-west-2', read_endpoint: replica.endpoint });
    const onReplica = storeAt({ endpoint: replica.endpoint });
    try {
      await ensureTable({ ...config, endpoint: replica.endpoint }, { credentials: EMBEDDED_CREDENTIALS });
      // Written in the home region, not replicated yet: the home region still finds it.
      await home.create({ id: 'fresh', copies: { 'us-east-1': blob('home') }, createdAt: 'x' });
      expect(text(asKey(await split.get('fresh')).copies['us-east-1'])).toBe('home');
      // Replicated: served by the replica (its copy differs here, to tell them apart).
      await onReplica.create({ id: 'fresh', copies: { 'us-east-1': blob('replica') }, createdAt: 'x' });
      expect(text(asKey(await split.get('fresh')).copies['us-east-1'])).toBe('replica');
      expect(await split.get('nowhere')).toBeUndefined();
      // Writes always go to the home region.
      await split.create({ id: 'written', copies: { 'us-east-1': blob('w') }, createdAt: 'x' });
      expect(await home.get('written')).toBeDefined();
      expect(await onReplica.get('written')).toBeUndefined();
    } finally {
      for (const s of [home, split, onReplica]) s.close();
      await replica.close();
    }
  });
});
