import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeError, RkmsClient, RkmsError } from '../../src/client/index.js';
import { recordKey } from '../support/audit.js';
import { testConfig } from '../support/config.js';
import { getKey } from '../support/http.js';
import { startStack, type RunningService, type Stack } from '../support/stack.js';
import { recordingFetch } from '../support/recording-fetch.js';

let stack: Stack;
let a: RunningService;
let b: RunningService;
const clients: RkmsClient[] = [];

beforeAll(async () => {
  stack = await startStack(testConfig({ cache: { ttl_seconds: 0 } }), 'client');
  a = await stack.startService();
  b = await stack.startService();
});

afterAll(async () => {
  for (const client of clients) client.close();
  await stack.close();
});

/** A client of the stack whose every key is recorded for the log audit. */
function client(options: Partial<ConstructorParameters<typeof RkmsClient>[0]> = {}) {
  const recording = recordingFetch();
  const created = new RkmsClient({ urls: [a.url, b.url], fetch: recording.fetch, ...options });
  clients.push(created);
  return { client: created, urls: recording.urls };
}

/** Counts the requests a replica's own HTTP server receives. */
function requestCounter({ service }: RunningService): () => number {
  let count = 0;
  service.app.server.on('request', () => (count += 1));
  return () => count;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('keys', () => {
  it('gives the same 32-byte key as the HTTP API, from either replica', async () => {
    const { client: c } = client();
    const first = await c.getKey('tenant-1');
    const second = await c.getKey('tenant-1');
    const direct = await getKey(b.url, 'tenant-1');
    expect(first).toHaveLength(32);
    expect(second.equals(first)).toBe(true);
    expect(first.toString('base64')).toBe(direct.body.key);
  });

  it('handles ids that need percent-encoding', async () => {
    const id = 'user/ünïcødé 1&x=2#frag';
    const key = await client().client.getKey(id);
    expect(key.toString('base64')).toBe((await getKey(a.url, id)).body.key);
  });

  it('schedules deletion, refuses the pending key with a typed error, and restores it', async () => {
    const { client: c } = client({ cache: { ttlMs: 60_000 } });
    const key = await c.getKey('doomed');
    const deleted = await c.deleteKey('doomed');
    expect(deleted).toMatchObject({ id: 'doomed', state: 'PendingDeletion' });
    expect(deleted.deletionDate?.getTime()).toBeGreaterThan(Date.now());
    // Not from the cache: the delete dropped it.
    const pending = await rejection(c.getKey('doomed'));
    expect(pending).toBeInstanceOf(RkmsError);
    expect(pending).toMatchObject({ errorType: 'KeyPendingDeletion', status: 409, retryable: false });
    expect(await c.restoreKey('doomed')).toEqual({ id: 'doomed', state: 'Enabled' });
    expect((await c.getKey('doomed')).equals(key)).toBe(true);
  });

  it('answers KeyNotFound for deleting an id that has no key, and BadRequest for an empty id', async () => {
    const { client: c, urls } = client();
    expect(await rejection(c.deleteKey('never-created'))).toMatchObject({
      errorType: 'KeyNotFound',
      status: 404,
    });
    expect(await rejection(c.getKey(''))).toMatchObject({ errorType: 'BadRequest', status: 400 });
    // Neither was retried.
    expect(urls).toHaveLength(2);
  });
});

describe('failover', () => {
  it('answers without an error after a replica stops, and returns the same keys', async () => {
    const replicaA = await stack.startService();
    const { client: c, urls } = client({ urls: [replicaA.url, b.url] });
    // Both replicas have served this client, so it holds open connections to both.
    const before = [await c.getKey('fo-1'), await c.getKey('fo-2')];
    expect(new Set(urls.map((u) => new URL(u).origin))).toEqual(new Set([replicaA.url, b.url]));

    await replicaA.service.close();
    urls.length = 0;
    const after = [await c.getKey('fo-1'), await c.getKey('fo-2'), await c.getKey('fo-1')];
    expect(after.map((k) => k.toString('base64'))).toEqual(
      [before[0], before[1], before[0]].map((k) => k?.toString('base64')),
    );
    // The stopped replica was asked (and failed) at least once: the calls survived it.
    expect(urls.some((u) => u.startsWith(replicaA.url))).toBe(true);
    expect(await c.encrypt('fo-new', 'still here')).toBeInstanceOf(Buffer);
  });
});

describe('the cache', () => {
  it('serves a second call without a request, and hands out copies', async () => {
    const count = requestCounter(a);
    const { client: c } = client({ urls: [a.url], cache: { ttlMs: 60_000 } });
    const first = await c.getKey('cached');
    const requests = count();
    const second = await c.getKey('cached');
    expect(count()).toBe(requests);
    expect(second.equals(first)).toBe(true);
    second.fill(0);
    expect((await c.getKey('cached')).equals(first)).toBe(true);
    expect(count()).toBe(requests);
  });

  it('asks again once the TTL has passed', async () => {
    let now = 1_000_000;
    const count = requestCounter(a);
    const { client: c } = client({ urls: [a.url], cache: { ttlMs: 1_000 }, clock: () => now });
    const first = await c.getKey('expiring');
    now += 999;
    await c.getKey('expiring');
    const requests = count();
    now += 2;
    expect((await c.getKey('expiring')).equals(first)).toBe(true);
    expect(count()).toBe(requests + 1);
  });

  it('sends one request for concurrent calls for one id, and gives each caller its own copy', async () => {
    const count = requestCounter(a);
    const { client: c } = client({ urls: [a.url] });
    const before = count();
    const keys = await Promise.all(Array.from({ length: 20 }, () => c.getKey('burst')));
    expect(count() - before).toBe(1);
    const expected = Buffer.from(keys[0] ?? []).toString('base64');
    keys[0]?.fill(0);
    for (const key of keys.slice(1)) expect(key.toString('base64')).toBe(expected);
  });
});

describe('encrypt and decrypt', () => {
  const record = JSON.stringify({ name: 'Ada', card: '4111 1111 1111 1111' });

  it('round-trips strings and bytes, with and without AAD, across clients and replicas', async () => {
    const { client: writer } = client({ urls: [a.url] });
    const { client: reader } = client({ urls: [b.url] });
    const sealed = await writer.encrypt('orders', record);
    expect((await reader.decrypt('orders', sealed)).toString('utf8')).toBe(record);
    const bytes = Buffer.from([0, 1, 2, 255]);
    const withAad = await writer.encrypt('orders', bytes, 'row 7');
    expect((await reader.decrypt('orders', withAad, 'row 7')).equals(bytes)).toBe(true);
    const empty = await writer.encrypt('orders', '');
    expect(await reader.decrypt('orders', empty)).toHaveLength(0);
  });

  it('uses a fresh nonce every time', async () => {
    const { client: c } = client({ cache: { ttlMs: 60_000 } });
    const one = await c.encrypt('orders', record);
    const two = await c.encrypt('orders', record);
    expect(one.equals(two)).toBe(false);
    expect(one.subarray(1, 13).equals(two.subarray(1, 13))).toBe(false);
  });

  it('fails for any changed byte of the envelope, another id, or another AAD', async () => {
    const { client: c } = client({ cache: { ttlMs: 60_000 } });
    const sealed = await c.encrypt('orders', record, 'row 7');
    for (let i = 0; i < sealed.length; i++) {
      const altered = Buffer.from(sealed);
      altered[i] = (altered[i] ?? 0) ^ 0x01;
      await expect(c.decrypt('orders', altered, 'row 7'), `byte ${i}`).rejects.toBeInstanceOf(EnvelopeError);
    }
    await expect(c.decrypt('orders', sealed.subarray(0, -1), 'row 7')).rejects.toBeInstanceOf(EnvelopeError);
    await expect(c.decrypt('orders', Buffer.concat([sealed, Buffer.of(0)]), 'row 7')).rejects.toThrow(
      EnvelopeError,
    );
    await expect(c.decrypt('invoices', sealed, 'row 7')).rejects.toThrow(
      /does not decrypt for id 'invoices'/,
    );
    await expect(c.decrypt('orders', sealed, 'row 8')).rejects.toBeInstanceOf(EnvelopeError);
    await expect(c.decrypt('orders', sealed)).rejects.toBeInstanceOf(EnvelopeError);
    const noAad = await c.encrypt('orders', record);
    await expect(c.decrypt('orders', noAad, 'row 7')).rejects.toBeInstanceOf(EnvelopeError);
    expect((await c.decrypt('orders', sealed, 'row 7')).toString()).toBe(record);
  });

  it('refuses a truncated envelope or an unknown version before asking RKMS', async () => {
    const count = requestCounter(a);
    const { client: c } = client({ urls: [a.url] });
    const before = count();
    await expect(c.decrypt('orders', Buffer.alloc(28, 1))).rejects.toThrow(/at least 29 bytes/);
    await expect(c.decrypt('orders', Buffer.alloc(40, 2))).rejects.toThrow(/unknown envelope version 2/);
    expect(count()).toBe(before);
  });
});

describe('keys handed out', () => {
  it('are recorded for the log audit', async () => {
    // Keys a test holds without a recording fetch: recorded here.
    recordKey((await client().client.getKey('audited')).toString('base64'));
  });
});
