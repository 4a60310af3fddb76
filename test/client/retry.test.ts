import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RkmsClient, RkmsError, type RkmsClientOptions } from '../../src/client/index.js';
import { recordKey } from '../support/audit.js';
import {
  hangUp,
  json,
  rkmsError,
  silence,
  startScriptedReplica,
  type ScriptedReplica,
} from '../support/scripted-replica.js';

let a: ScriptedReplica;
let b: ScriptedReplica;
/** Waits the client asked for; the fake clock moves by them, so no test waits for real. */
let sleeps: number[];
let now: number;

beforeEach(async () => {
  [a, b] = await Promise.all([startScriptedReplica(), startScriptedReplica()]);
  sleeps = [];
  now = Date.parse('2030-01-01T00:00:00Z');
});

afterEach(async () => {
  await Promise.all([a.close(), b.close()]);
});

function client(options: Partial<RkmsClientOptions> = {}) {
  return new RkmsClient({
    urls: [a.url, b.url],
    clock: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
    random: () => 0.5,
    ...options,
  });
}

function keyBody(id: string) {
  const key = randomBytes(32).toString('base64');
  recordKey(key);
  return { body: { id, key }, key };
}

async function rejection(promise: Promise<unknown>): Promise<RkmsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RkmsError);
  return error as RkmsError;
}

describe('retries', () => {
  it('answers from the next replica, at once, when one is overloaded or unavailable', async () => {
    const { body, key } = keyBody('t');
    a.script(rkmsError(503, 'KmsUnavailable', { 'retry-after': '2' }));
    b.script(json(200, body));
    expect((await client().getKey('t')).toString('base64')).toBe(key);
    expect(sleeps).toEqual([]);
  });

  it('waits for Retry-After before asking the same replica again', async () => {
    const { body, key } = keyBody('t');
    a.script(rkmsError(503, 'StoreUnavailable', { 'retry-after': '2' }), json(200, body));
    const single = client({ urls: [a.url] });
    expect((await single.getKey('t')).toString('base64')).toBe(key);
    expect(sleeps).toEqual([2000]);
    expect(a.seen).toHaveLength(2);
  });

  it('backs off exponentially, with jitter, while every replica fails', async () => {
    const { body } = keyBody('t');
    a.script(rkmsError(503, 'KeyContention'), rkmsError(503, 'KeyContention'), json(200, body));
    b.script(rkmsError(429, 'TooManyRequests'), rkmsError(503, 'KeyContention'));
    await client().getKey('t');
    // a fails, b at once; each replica is asked again after base·2^(n-1), scaled to 3/4
    // by random() = 0.5: a after 75 ms, b then already due, a after 150 ms more.
    expect(sleeps).toEqual([75, 150]);
    expect([a.seen.length, b.seen.length]).toEqual([3, 2]);
  });

  it("gives the server's error, without waiting, when Retry-After falls past the deadline", async () => {
    a.script(rkmsError(503, 'KmsUnavailable', { 'retry-after': '30' }));
    b.script(rkmsError(503, 'KmsUnavailable', { 'retry-after': '30' }));
    const error = await rejection(client().getKey('t'));
    expect(error).toMatchObject({
      errorType: 'KmsUnavailable',
      status: 503,
      retryable: true,
      retryAfterSeconds: 30,
      requestId: 'req-1',
      attempts: 2,
    });
    expect(sleeps).toEqual([]);
  });

  it('reads Retry-After given as an HTTP date', async () => {
    const { body } = keyBody('t');
    const at = new Date(now + 3000).toUTCString();
    a.script(rkmsError(503, 'StoreUnavailable', { 'retry-after': at }), json(200, body));
    await client({ urls: [a.url] }).getKey('t');
    expect(sleeps).toEqual([3000]);
  });

  it('never retries a client error other than 429', async () => {
    a.script(rkmsError(409, 'KeyPendingDeletion'));
    const error = await rejection(client().getKey('t'));
    expect(error).toMatchObject({ errorType: 'KeyPendingDeletion', status: 409, retryable: false });
    a.script(rkmsError(503, 'KeyContention'), rkmsError(404, 'KeyNotFound'));
    expect(await rejection(client({ urls: [a.url] }).deleteKey('t'))).toMatchObject({
      errorType: 'KeyNotFound',
      attempts: 2,
    });
    expect(error.message).toContain('scripted KeyPendingDeletion');
    expect(b.seen).toEqual([]);
    expect(a.seen).toHaveLength(3);
  });

  it('does not retry a 500: it is a bug, and retrying multiplies it', async () => {
    a.script(rkmsError(500, 'InternalError'));
    expect(await rejection(client().getKey('t'))).toMatchObject({ errorType: 'InternalError', status: 500 });
    expect(b.seen).toEqual([]);
  });

  it('retries a dropped connection and a 502 from a load balancer', async () => {
    const { body } = keyBody('t');
    a.script(hangUp, (_req, res) => res.writeHead(502).end('<html>bad gateway</html>'));
    b.script(rkmsError(503, 'KeyContention'), json(200, body));
    const single = client();
    await single.getKey('t');
    expect([a.seen.length, b.seen.length]).toEqual([2, 2]);
  });

  it('stops after maxAttempts with the last error', async () => {
    a.script(...Array.from({ length: 3 }, () => rkmsError(503, 'KeyContention')));
    const error = await rejection(client({ urls: [a.url], retry: { maxAttempts: 3 } }).getKey('t'));
    expect(error).toMatchObject({ errorType: 'KeyContention', attempts: 3 });
    expect(a.seen).toHaveLength(3);
  });

  it('ends an attempt that gets no answer, and tries the next replica', async () => {
    const { body } = keyBody('t');
    a.script(silence);
    b.script(json(200, body));
    // A short attempt timeout, so the test does not wait; nothing asserts how long it took.
    await client({ attemptTimeoutMs: 50 }).getKey('t');
    expect(b.seen).toHaveLength(1);
  });

  it('answers DeadlineExceeded when the deadline cuts the last attempt short', async () => {
    a.script(silence);
    const error = await rejection(client({ urls: [a.url], deadlineMs: 50 }).getKey('t'));
    expect(error).toMatchObject({ errorType: 'DeadlineExceeded', retryable: true });
    expect(error.cause).toMatchObject({ errorType: 'Timeout' });
  });

  it('names the replicas it could not reach when none answers', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const error = await rejection(client({ urls: [down], retry: { maxAttempts: 2 } }).getKey('t'));
    expect(error).toMatchObject({ errorType: 'ConnectionFailed', status: undefined, url: down, attempts: 2 });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('rejects with the reason of an aborted call, and sends nothing more', async () => {
    a.script(rkmsError(503, 'KeyContention', { 'retry-after': '1' }));
    const controller = new AbortController();
    const reason = new Error('the user went away');
    const single = client({
      urls: [a.url],
      sleep: () => {
        controller.abort(reason);
        return new Promise(() => undefined);
      },
    });
    await expect(single.getKey('t', { signal: controller.signal })).rejects.toBe(reason);
    expect(a.seen).toHaveLength(1);
  });
});

describe('the retry budget', () => {
  it('stops retrying once failures have spent it, and successes refill it', async () => {
    const single = client({ urls: [a.url], retry: { maxAttempts: 1000 } });
    // 500 tokens at 5 per retry: 100 retries, then the 101st failure is final.
    a.script(...Array.from({ length: 101 }, () => rkmsError(503, 'KeyContention')));
    const error = await rejection(single.getKey('t', { deadlineMs: 1e9 }));
    expect(error.attempts).toBe(101);
    a.script(rkmsError(503, 'KeyContention'));
    expect(await rejection(single.getKey('t'))).toMatchObject({ attempts: 1 });
    const { body } = keyBody('u');
    for (let i = 0; i < 5; i++) a.script(json(200, body));
    for (let i = 0; i < 5; i++) await single.getKey('u');
    a.script(rkmsError(503, 'KeyContention'), json(200, body));
    await single.getKey('u');
  });
});

describe('authentication', () => {
  it('sends the token as a bearer token, asking a token function on every attempt', async () => {
    const { body } = keyBody('t');
    a.script(rkmsError(503, 'KeyContention'), json(200, body));
    let n = 0;
    await client({ urls: [a.url], token: () => `token-${++n}` }).getKey('t');
    expect(a.seen.map((r) => r.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('surfaces 401 and 403 as typed errors without retrying', async () => {
    a.script((_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer' }).end());
    expect(await rejection(client({ token: 'wrong' }).getKey('t'))).toMatchObject({
      errorType: 'Unauthorized',
      status: 401,
      retryable: false,
    });
    a.script(rkmsError(403, 'Forbidden'));
    expect(await rejection(client({ urls: [a.url], token: 't' }).getKey('t'))).toMatchObject({
      errorType: 'Forbidden',
    });
    expect(b.seen).toEqual([]);
  });
});

describe('answers that are not RKMS answers', () => {
  it('refuses a key for another id, or a body without a key, without quoting it', async () => {
    const { body, key } = keyBody('other');
    a.script(json(200, body), json(200, { id: 't' }));
    const single = client({ urls: [a.url] });
    const wrongId = await rejection(single.getKey('t'));
    expect(wrongId).toMatchObject({ errorType: 'InvalidResponse', retryable: false });
    expect(wrongId.message).not.toContain(key);
    expect(await rejection(single.getKey('t'))).toMatchObject({ errorType: 'InvalidResponse' });
  });
});

describe('createKey after a retry', () => {
  it('returns the key when a retried create finds the key its lost first attempt made', async () => {
    const { body, key } = keyBody('t');
    a.script(hangUp);
    b.script(rkmsError(409, 'KeyExists'), json(200, body));
    expect((await client().createKey('t')).toString('base64')).toBe(key);
    expect(b.seen.map((r) => r.method)).toEqual(['POST', 'GET']);
  });

  it('surfaces KeyExists when no earlier attempt can have created the key', async () => {
    a.script(rkmsError(429, 'TooManyRequests'));
    b.script(rkmsError(409, 'KeyExists'));
    expect(await rejection(client().createKey('t'))).toMatchObject({ errorType: 'KeyExists', status: 409 });
    const down = `http://127.0.0.1:${await closedPort()}`;
    b.script(rkmsError(409, 'KeyExists'));
    expect(await rejection(client({ urls: [down, b.url] }).createKey('t'))).toMatchObject({
      errorType: 'KeyExists',
    });
  });

  it('returns a created key from a 201', async () => {
    const { body, key } = keyBody('t');
    a.script(json(201, body));
    expect((await client().createKey('t')).toString('base64')).toBe(key);
    expect(a.seen[0]).toMatchObject({ method: 'POST', url: '/key?id=t' });
  });
});

describe('requests', () => {
  it('percent-encodes the id and keeps the path of the base URL', async () => {
    const id = 'user/ünï cødé&x=1';
    a.script(json(200, { id, state: 'PendingDeletion', deletion_date: '2030-01-08T00:00:00.000Z' }));
    const status = await client({ urls: [`${a.url}/api/v1/`] }).deleteKey(id);
    expect(status).toEqual({ id, state: 'PendingDeletion', deletionDate: new Date('2030-01-08T00:00:00Z') });
    expect(a.seen[0]).toMatchObject({ method: 'DELETE', url: `/api/v1/key?id=${encodeURIComponent(id)}` });
  });

  it('restores with POST /key/restore, retrying as for any idempotent call', async () => {
    a.script(hangUp);
    b.script(json(200, { id: 't', state: 'Enabled' }));
    expect(await client().restoreKey('t')).toEqual({ id: 't', state: 'Enabled' });
    expect(b.seen[0]).toMatchObject({ method: 'POST', url: '/key/restore?id=t' });
  });
});

/** A port nothing listens on: one a server just had and gave back. */
async function closedPort(): Promise<number> {
  const replica = await startScriptedReplica();
  await replica.close();
  return Number(new URL(replica.url).port);
}
