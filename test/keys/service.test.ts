import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EMBEDDED_CREDENTIALS } from '../../src/cli/embedded.js';
import type { KeyParts } from '../../src/cli/compose.js';
import { createKmsClient } from '../../src/kms/aws-backend.js';
import {
  KeyContentionError,
  KeyDeletedError,
  KeyExistsError,
  KeyIntegrityError,
  KeyNotFoundError,
  KeyPendingDeletionError,
} from '../../src/keys/errors.js';
import { KeyCache } from '../../src/shared/key-cache.js';
import { KeyService } from '../../src/keys/service.js';
import { startSweeper } from '../../src/keys/sweeper.js';
import { KmsUnavailableError } from '../../src/kms/errors.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import type { Config } from '../../src/config/schema.js';
import { recordKey } from '../support/audit.js';
import { TEST_REGIONS, testConfig } from '../support/config.js';
import { startStack, type Stack } from '../support/stack.js';

const DAY = 86_400_000;
const START = Date.parse('2026-11-22T12:00:00.000Z');
let stack: Stack;

beforeAll(async () => {
  stack = await startStack(testConfig({ kms: { hedge_after_ms: 0 } }), 'key-service');
});
afterEach(() => {
  stack.kms.faults.clear();
  stack.kms.resetCounters();
});
afterAll(async () => {
  await stack.close();
});

/** A key service on the shared store and local KMS, with a clock the test moves. */
async function setup(overrides: { cache?: Partial<Config['cache']>; kms?: Partial<Config['kms']> } = {}) {
  const clock = { now: START };
  const parts = await stack.keyParts(
    {
      cache: { ...stack.config.cache, ttl_seconds: 0, ...overrides.cache },
      kms: { ...stack.config.kms, ...overrides.kms },
    },
    () => clock.now,
  );
  return { ...parts, clock };
}

const calls = (operation: string) =>
  Object.values(stack.kms.counters()).reduce((sum, ops) => sum + (ops[operation] ?? 0), 0);
/** Base64 of a key, remembered for the log audit. */
const b64 = (served: Uint8Array | { key: Uint8Array }) => {
  const encoded = Buffer.from(served instanceof Uint8Array ? served : served.key).toString('base64');
  recordKey(encoded);
  return encoded;
};
const item = (id: string) => stack.table.item(id);
const unique = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}`;

function kmsClient(region: string) {
  return createKmsClient({
    region,
    endpoint: stack.kms.url,
    credentials: EMBEDDED_CREDENTIALS,
    kms: stack.config.kms,
  });
}

/**
 * A key service over `parts` whose store lets another writer change the id's item (a new
 * version, as a repair on another replica makes) right before each of its first `times`
 * calls to `method`; `races()` counts them.
 */
function serviceRacedOn(
  parts: KeyParts,
  method: 'destroy' | 'scheduleDeletion',
  id: string,
  { times = Infinity, clock = Date.now }: { times?: number; clock?: () => number } = {},
) {
  let races = 0;
  const store = new Proxy(parts.store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const call = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
      if (property !== method || races >= times) return call;
      return async (...args: unknown[]) => {
        races++;
        const current = await item(id);
        await stack.table.put({ ...current, version: (current?.version as number) + 1 });
        return call(...args);
      };
    },
  });
  const service = new KeyService({
    store,
    kms: parts.kms,
    cache: new KeyCache({ ttlMs: 0, maxEntries: 1 }),
    repairer: parts.repairer,
    dataKeyBytes: 32,
    deletionWindowDays: 7,
    requestTimeoutMs: 5_000,
    clock,
  });
  return { service, races: () => races };
}

/** Until the background repairs the key service started are done. */
const repaired = (parts: KeyParts) => parts.repairer.settled();

describe('KeyService.getKey', () => {
  it('creates a key on first use, with a copy in every region, and returns the same key afterwards', async () => {
    const { keys } = await setup();
    const id = unique('tenant');
    const first = await keys.getKey(id);
    expect(first.key).toHaveLength(32);
    expect(b64(await keys.getKey(id))).toBe(b64(first));
    expect(b64(await keys.getKey(unique('other')))).not.toBe(b64(first));
    const stored = await item(id);
    expect(Object.keys(stored?.keys as object)).toEqual(TEST_REGIONS);
    expect(stored).toMatchObject({ id, ctx: 'rkms:id', version: 1, state: 'Enabled' });
  });

  it('binds every copy to its id: each decrypts with {"rkms:id": id} and with nothing else', async () => {
    const { keys } = await setup();
    const id = unique('bound');
    const key = b64(await keys.getKey(id));
    const copies = (await item(id))?.keys as Record<string, string>;
    for (const region of TEST_REGIONS) {
      const client = kmsClient(region);
      const CiphertextBlob = Buffer.from(copies[region] ?? '', 'base64');
      const opened = await client.send(
        new DecryptCommand({ CiphertextBlob, EncryptionContext: { 'rkms:id': id } }),
      );
      expect(b64(opened.Plaintext ?? new Uint8Array())).toBe(key);
      await expect(client.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({
        name: 'InvalidCiphertextException',
      });
      client.destroy();
    }
  });

  it('shares one in-flight load between concurrent requests for the same id', async () => {
    const { keys } = await setup({ cache: { ttl_seconds: 60 } });
    const id = unique('burst');
    const results = await Promise.all(Array.from({ length: 100 }, () => keys.getKey(id)));
    expect(new Set(results.map(b64)).size).toBe(1);
    expect(calls('GenerateDataKey')).toBe(1);
    expect(calls('Encrypt')).toBe(TEST_REGIONS.length - 1);
  });

  it('serves a cached key with no KMS call, and an uncached one with exactly one Decrypt', async () => {
    const cached = await setup({ cache: { ttl_seconds: 60 } });
    const uncached = await setup();
    const id = unique('cache');
    await cached.keys.getKey(id);
    stack.kms.resetCounters();
    b64(await cached.keys.getKey(id));
    expect(calls('Decrypt')).toBe(0);
    b64(await uncached.keys.getKey(id));
    b64(await uncached.keys.getKey(id));
    expect(calls('Decrypt')).toBe(2);
  });

  it('never treats a store error as "not found": no key is generated', async () => {
    const sockets = new Set<Socket>();
    const refusing: Server = createServer((socket) => {
      sockets.add(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const parts = await stack.keyParts({
        dynamodb: {
          ...stack.config.dynamodb,
          endpoint: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`,
          max_attempts: 1,
        },
      });
      await expect(parts.keys.getKey(unique('unlucky'))).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(calls('GenerateDataKey')).toBe(0);
    } finally {
      refusing.close();
    }
  });

  it('creates new keys with a quorum while a region is down, and repairs them when it is back', async () => {
    const parts = await setup();
    const id = unique('quorum');
    stack.kms.faults.set('us-west-1', { down: {} });
    const key = b64(await parts.keys.getKey(id));
    await repaired(parts);
    expect(Object.keys((await item(id))?.keys as object)).toEqual(['us-east-1', 'us-east-2']);
    stack.kms.faults.clear();
    expect(b64(await parts.keys.getKey(id))).toBe(key);
    await repaired(parts);
    const copies = (await item(id))?.keys as Record<string, string>;
    expect(Object.keys(copies)).toEqual(['us-east-1', 'us-east-2', 'us-west-1']);
    expect((await item(id))?.version).toBe(2);
    // The added copy is a copy of the same key.
    const client = kmsClient('us-west-1');
    const opened = await client.send(
      new DecryptCommand({
        CiphertextBlob: Buffer.from(copies['us-west-1'] ?? '', 'base64'),
        EncryptionContext: { 'rkms:id': id },
      }),
    );
    client.destroy();
    expect(b64(opened.Plaintext ?? new Uint8Array())).toBe(key);
  });

  it('stores nothing when fewer than min_regions regions can protect the key', async () => {
    const { keys } = await setup({ kms: { min_regions: 3 } });
    const id = unique('half-made');
    stack.kms.faults.set('us-west-1', { throttle: {} });
    const failure = keys.getKey(id);
    await expect(failure).rejects.toBeInstanceOf(KmsUnavailableError);
    await expect(failure).rejects.toThrow(/us-west-1: Encrypt: throttled/);
    expect(await item(id)).toBeUndefined();
  });

  it('gives two replicas racing for a new id one key and one item', async () => {
    const a = await setup();
    const b = await setup();
    const id = unique('contested');
    const keys = await Promise.all([a, b, a, b].map((p) => p.keys.getKey(id)));
    expect(new Set(keys.map(b64)).size).toBe(1);
    expect((await item(id))?.version).toBe(1);
  });

  it('refuses an item whose ciphertexts were copied from another id, and leaves it for an operator', async () => {
    const { keys } = await setup();
    const victim = unique('victim');
    const thief = unique('thief');
    await keys.getKey(victim);
    const stolen = await item(victim);
    await stack.table.put({ ...stolen, id: thief });
    const failure = keys.getKey(thief);
    await expect(failure).rejects.toBeInstanceOf(KeyIntegrityError);
    await expect(failure).rejects.toThrow(/copied from another id, or altered/);
    expect((await item(thief))?.keys).toEqual(stolen?.keys);
  });

  it('serves an item in the original RKMS format, decrypted without a context, and repairs it the same way', async () => {
    const parts = await setup();
    const id = unique('from-go');
    const legacyKey = new Uint8Array(32).fill(42);
    const client = kmsClient('us-east-1');
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: 'alias/rkms-us-east-1', Plaintext: legacyKey }),
    );
    client.destroy();
    await stack.table.put({
      id,
      keys: { 'us-east-1': Buffer.from(CiphertextBlob ?? []).toString('base64') },
    });
    expect(b64(await parts.keys.getKey(id))).toBe(b64(legacyKey));
    await repaired(parts);
    const stored = await item(id);
    expect(Object.keys(stored?.keys as object).sort()).toEqual([...TEST_REGIONS].sort());
    expect(stored?.ctx).toBeUndefined(); // still an original-format item, read without a context
    expect(b64(await parts.keys.getKey(id))).toBe(b64(legacyKey));
  });

  it('serves a key whose copy in one region is not base64, reports it, and replaces only that copy', async () => {
    const parts = await setup();
    const id = unique('malformed');
    const key = b64(await parts.keys.getKey(id));
    const before = (await item(id))?.keys as Record<string, string>;
    await stack.table.setCopy(id, 'us-east-1', '%%% not base64 %%%');
    expect(b64(await parts.keys.getKey(id))).toBe(key);
    await repaired(parts);
    const after = (await item(id))?.keys as Record<string, string>;
    expect(after['us-east-1']).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(after['us-east-2']).toBe(before['us-east-2']);
    expect(after['us-west-1']).toBe(before['us-west-1']);
  });

  it('serves a key whose copy one region refuses (bit-flipped) from another region, and replaces that copy', async () => {
    const parts = await setup();
    const id = unique('flipped');
    const key = b64(await parts.keys.getKey(id));
    const copy = Buffer.from(((await item(id))?.keys as Record<string, string>)['us-east-1'] ?? '', 'base64');
    copy[copy.length - 3] = (copy[copy.length - 3] ?? 0) ^ 1;
    await stack.table.setCopy(id, 'us-east-1', copy.toString('base64'));
    expect(b64(await parts.keys.getKey(id))).toBe(key);
    await repaired(parts);
    stack.kms.resetCounters();
    expect(b64(await parts.keys.getKey(id))).toBe(key);
    expect(stack.kms.counters()['us-east-1']?.Decrypt).toBe(1);
  });

  it('answers KeyIntegrityError when no copy is well-formed', async () => {
    const { keys } = await setup();
    const id = unique('ruined');
    await stack.table.put({ id, keys: { 'us-east-1': '!!', 'us-east-2': 42 }, ctx: 'rkms:id', version: 1 });
    await expect(keys.getKey(id)).rejects.toBeInstanceOf(KeyIntegrityError);
  });

  it('caches nothing from a load that a deletion overtook', async () => {
    const { keys } = await setup({ cache: { ttl_seconds: 60 } });
    const id = unique('overtaken');
    await (await setup()).keys.getKey(id);
    stack.kms.resetCounters();
    // The load reads the item, then waits on its Decrypt; the deletion happens in that wait.
    stack.kms.faults.set('us-east-1', { latency: { ms: 1_000, operations: ['Decrypt'] } });
    let settled = false;
    const load = keys.getKey(id).finally(() => {
      settled = true;
    });
    await vi.waitFor(
      () => {
        expect(calls('Decrypt')).toBe(1);
      },
      { timeout: 10_000, interval: 5 },
    );
    await keys.scheduleDeletion(id);
    expect(settled, 'the load was still waiting for KMS when the deletion was written').toBe(false);
    b64(await load); // it read the key before the deletion, so this caller may have it...
    await expect(keys.getKey(id)).rejects.toBeInstanceOf(KeyPendingDeletionError); // ...but nobody after
  });

  it('answers a hung store with StoreUnavailable when the request deadline passes', async () => {
    const sockets = new Set<Socket>();
    const hung: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const parts = await stack.keyParts({
        server: { ...stack.config.server, request_timeout_ms: 300 },
        dynamodb: {
          ...stack.config.dynamodb,
          endpoint: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`,
        },
      });
      const started = Date.now();
      const failure = parts.keys.getKey(unique('stuck'));
      await expect(failure).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(failure).rejects.toThrow(/no answer before the request deadline/);
      // Without the deadline it would wait 3 attempts × 2 s; the bound is loose on purpose.
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(calls('GenerateDataKey')).toBe(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      hung.close();
    }
  });
});

describe('KeyService.createKey', () => {
  it('creates a key for a new id (201), and refuses an id that has one', async () => {
    const { keys } = await setup();
    const id = unique('explicit');
    const key = b64(await keys.createKey(id));
    expect(b64(await keys.getKey(id))).toBe(key);
    await expect(keys.createKey(id)).rejects.toBeInstanceOf(KeyExistsError);
    await keys.scheduleDeletion(id);
    await expect(keys.createKey(id)).rejects.toBeInstanceOf(KeyExistsError);
  });
});

describe('KeyService deletion', () => {
  it('refuses a pending key, restores the same key, and destroys it after the window, leaving a tombstone', async () => {
    const { keys, clock } = await setup();
    const id = unique('doomed');
    const original = b64(await keys.getKey(id));

    const status = await keys.scheduleDeletion(id);
    expect(status).toEqual({ id, state: 'PendingDeletion', deletionDate: '2026-11-29T12:00:00.000Z' });
    await expect(keys.getKey(id)).rejects.toBeInstanceOf(KeyPendingDeletionError);
    expect(await keys.scheduleDeletion(id)).toEqual(status); // deleting again changes nothing

    expect(await keys.restore(id)).toEqual({ id, state: 'Enabled' });
    expect(b64(await keys.getKey(id))).toBe(original);

    await keys.scheduleDeletion(id);
    clock.now += 7 * DAY - 1;
    await expect(keys.getKey(id)).rejects.toBeInstanceOf(KeyPendingDeletionError);
    clock.now += 1;
    const gone = keys.getKey(id);
    await expect(gone).rejects.toBeInstanceOf(KeyDeletedError);
    await expect(gone).rejects.toThrow(/was deleted on 2026-11-29T12:00:00.000Z.*POST \/key/);
    const tombstone = await item(id);
    expect(tombstone).toMatchObject({ id, state: 'Deleted', deletion_date: '2026-11-29T12:00:00.000Z' });
    expect(tombstone?.keys).toBeUndefined();
    await expect(keys.getKey(id)).rejects.toBeInstanceOf(KeyDeletedError); // never a silent new key
    await expect(keys.scheduleDeletion(id)).rejects.toBeInstanceOf(KeyDeletedError);
    await expect(keys.restore(id)).rejects.toBeInstanceOf(KeyDeletedError);

    const replacement = b64(await keys.createKey(id));
    expect(replacement).not.toBe(original);
    expect(b64(await keys.getKey(id))).toBe(replacement);
    // Versions keep growing across re-creation, so no stale writer can mistake the new item for the old.
    expect((await item(id))?.version).toBe((tombstone?.version as number) + 1);
  });

  it('answers "not found" for ids without a key', async () => {
    const { keys } = await setup();
    await expect(keys.scheduleDeletion(unique('never'))).rejects.toBeInstanceOf(KeyNotFoundError);
    await expect(keys.restore(unique('never'))).rejects.toBeInstanceOf(KeyNotFoundError);
  });

  it('deletes and restores items of the original RKMS format', async () => {
    const { keys } = await setup();
    const id = unique('go-item');
    const legacyKey = new Uint8Array(32).fill(5);
    const client = kmsClient('us-east-1');
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: 'alias/rkms-us-east-1', Plaintext: legacyKey }),
    );
    client.destroy();
    await stack.table.put({
      id,
      keys: { 'us-east-1': Buffer.from(CiphertextBlob ?? []).toString('base64') },
    });
    await keys.scheduleDeletion(id);
    await keys.restore(id);
    expect(b64(await keys.getKey(id))).toBe(b64(legacyKey));
    expect((await item(id))?.ctx).toBeUndefined();
  });

  it('sweeps the keys whose deletion date has passed, and only those', async () => {
    const { keys, clock } = await setup();
    const [a, b, keep] = [unique('sweep-a'), unique('sweep-b'), unique('sweep-keep')];
    for (const id of [a, b, keep]) await keys.getKey(id);
    await keys.scheduleDeletion(a);
    await keys.scheduleDeletion(b);
    clock.now += 3 * DAY;
    await keys.scheduleDeletion(keep);
    clock.now += 5 * DAY;
    const swept = await keys.sweep();
    expect(swept).toContain(a);
    expect(swept).toContain(b);
    expect(swept).not.toContain(keep);
    expect((await item(a))?.state).toBe('Deleted');
    expect((await item(keep))?.state).toBe('PendingDeletion');
  });

  it('does not report a key as swept when another writer changed it first', async () => {
    const { clock, ...parts } = await setup();
    const id = unique('sweep-raced');
    b64(await parts.keys.getKey(id));
    await parts.keys.scheduleDeletion(id);
    clock.now += 8 * DAY;
    // Another replica changes the item (a repair adds a copy) between the sweep's scan and its write.
    const { service } = serviceRacedOn(parts, 'destroy', id, { times: 1, clock: () => clock.now });
    expect(await service.sweep()).not.toContain(id);
    expect((await item(id))?.state).toBe('PendingDeletion');
    // The next sweep reads the changed item and destroys it, and says so.
    expect(await service.sweep()).toContain(id);
    expect((await item(id))?.state).toBe('Deleted');
  });

  it('gives up with KeyContention rather than looping when the item keeps changing', async () => {
    const parts = await setup();
    const id = unique('churn');
    b64(await parts.keys.getKey(id));
    // Another writer changes the item between each read RKMS makes and its write.
    const { service, races } = serviceRacedOn(parts, 'scheduleDeletion', id);
    await expect(service.scheduleDeletion(id)).rejects.toBeInstanceOf(KeyContentionError);
    expect(races()).toBe(4);
  });
});

describe('the periodic sweep', () => {
  it('destroys keys past their deletion date without anyone asking for them', async () => {
    const { keys, clock } = await setup();
    const id = unique('forgotten');
    await keys.getKey(id);
    await keys.scheduleDeletion(id);
    clock.now += 8 * DAY;
    const sweeper = startSweeper(keys, 20);
    try {
      await expect
        .poll(async () => (await item(id))?.state, { timeout: 10_000, interval: 20 })
        .toBe('Deleted');
    } finally {
      sweeper?.stop();
    }
  });

  it('is off when the interval is 0', async () => {
    const { keys } = await setup();
    expect(startSweeper(keys, 0)).toBeUndefined();
  });
});

describe('where a served key came from', () => {
  it('says which region decrypted or generated it, or the cache, and who created it', async () => {
    const { keys } = await setup({ cache: { ttl_seconds: 60 } });
    const id = unique('source');
    const burst = await Promise.all([keys.getKey(id), keys.getKey(id), keys.getKey(id)]);
    for (const served of burst) b64(served);
    expect(burst.map((s) => s.created)).toEqual([true, false, false]);
    expect(burst.map((s) => s.source)).toEqual(['us-east-1', 'us-east-1', 'us-east-1']);
    expect(await keys.getKey(id)).toMatchObject({ source: 'cache', created: false });
    const uncached = await setup();
    const opened = await uncached.keys.getKey(id);
    b64(opened);
    expect(opened).toMatchObject({ source: 'us-east-1', created: false });
  });
});
