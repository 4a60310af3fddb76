import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../support/config.js';
import { call, deleteKey, getKey, restoreKey } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

const DAY = 86_400_000;
let stack: Stack;
let base: string;
const clock = { now: Date.now() };

beforeAll(async () => {
  stack = await startStack(
    testConfig({ cache: { ttl_seconds: 0 }, kms: { hedge_after_ms: 0 } }),
    'http-routes',
  );
  ({ url: base } = await stack.startService({}, () => clock.now));
});

afterAll(async () => {
  await stack.close();
});

describe('GET /key', () => {
  it('answers {id, key} with a 32-byte base64 key that no cache may keep', async () => {
    const reply = await getKey(base, 'tenant-a');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ id: 'tenant-a', key: expect.any(String) as string });
    expect(Buffer.from(reply.body.key as string, 'base64')).toHaveLength(32);
    expect(reply.headers.get('cache-control')).toBe('no-store');
  });

  it('answers the same key under the original /api/v1/key path', async () => {
    const plain = await getKey(base, 'both-paths');
    const legacy = await getKey(base, 'both-paths', '/api/v1');
    expect(legacy.status).toBe(200);
    expect(legacy.body).toEqual(plain.body);
  });

  it('accepts any Unicode id up to 512 characters', async () => {
    for (const id of ['ключ-🔑', 'a/b?c=d&e', ' spaced ', 'x'.repeat(512), '🔑'.repeat(512)]) {
      const reply = await getKey(base, id);
      expect(reply.status, id).toBe(200);
      expect(reply.body.id).toBe(id);
    }
  });

  it.each([
    ['no id', '/key', /the query parameter id is required/],
    ['an empty id', '/key?id=', /must not be empty/],
    ['513 characters', `/key?id=${'x'.repeat(513)}`, /too long: at most 512 characters/],
    ['513 emoji', `/key?id=${encodeURIComponent('🔑'.repeat(513))}`, /too long: at most 512 characters/],
    ['NUL', '/key?id=a%00b', /without control characters/],
    ['a newline', '/key?id=a%0Ab', /without control characters/],
    ['DEL', '/key?id=a%7Fb', /without control characters/],
    ['a C1 control', '/key?id=a%C2%85b', /without control characters/],
    ['an encoded lone surrogate', '/key?id=%ED%A0%80', /not valid percent-encoded UTF-8/],
    ['invalid UTF-8', '/key?id=%FF%FE', /not valid percent-encoded UTF-8/],
    ['a broken escape', '/key?id=abc%2', /not valid percent-encoded UTF-8/],
    ['two ids', '/key?id=a&id=b', /exactly once/],
    ['another parameter only', '/api/v1/key?other=1', /the query parameter id is required/],
  ])('refuses %s with a 400 that says what to fix', async (_label, path, message) => {
    const reply = await call(base, 'GET', path);
    expect(reply.status).toBe(400);
    expect(reply.body.error_type).toBe('BadRequest');
    expect(reply.body.error_message).toMatch(message);
  });
});

describe('DELETE /key and POST /key/restore', () => {
  it('schedules deletion, refuses the key meanwhile, and restores the same key', async () => {
    const original = await getKey(base, 'to-delete', '/api/v1');
    const deleted = await deleteKey(base, 'to-delete');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({
      id: 'to-delete',
      state: 'PendingDeletion',
      deletion_date: expect.any(String) as string,
    });
    const days = (Date.parse(deleted.body.deletion_date as string) - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(7);

    for (const prefix of ['', '/api/v1']) {
      const refused = await getKey(base, 'to-delete', prefix);
      expect(refused.status).toBe(409);
      expect(refused.body.error_type).toBe('KeyPendingDeletion');
      expect(refused.body.error_message).toMatch(/pending deletion on .*POST \/key\/restore\?id=/);
    }

    const restored = await restoreKey(base, 'to-delete', '/api/v1');
    expect(restored.status).toBe(200);
    expect(restored.body).toEqual({ id: 'to-delete', state: 'Enabled' });
    expect((await getKey(base, 'to-delete')).body.key).toBe(original.body.key);
  });

  it('answers 404 for an id that has no key', async () => {
    for (const reply of [await deleteKey(base, 'ghost'), await restoreKey(base, 'ghost')]) {
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({
        error_type: 'KeyNotFound',
        error_message: 'no key exists for id "ghost"',
        request_id: reply.headers.get('x-request-id'),
      });
    }
  });

  it('answers 410 KeyDeleted with the date once the key is destroyed, never a new key', async () => {
    await getKey(base, 'destroyed');
    const { deletion_date } = (await deleteKey(base, 'destroyed')).body as { deletion_date: string };
    clock.now += 7 * DAY + 1;
    try {
      for (const reply of [
        await getKey(base, 'destroyed'),
        await getKey(base, 'destroyed', '/api/v1'),
        await deleteKey(base, 'destroyed'),
        await restoreKey(base, 'destroyed'),
      ]) {
        expect(reply.status).toBe(410);
        expect(reply.body.error_type).toBe('KeyDeleted');
        expect(reply.body.error_message).toContain(`was deleted on ${deletion_date}`);
        expect(reply.body.error_message).toContain('POST /key?id=');
      }
    } finally {
      clock.now = Date.now();
    }
  });

  it('answers 410 KeyDeleted, never a state, when DELETE or restore is the call that destroys the key', async () => {
    const calls = [
      ['due-then-delete', deleteKey],
      ['due-then-restore', restoreKey],
    ] as const;
    const dates = new Map<string, unknown>();
    for (const [id] of calls) {
      await getKey(base, id);
      dates.set(id, (await deleteKey(base, id)).body.deletion_date);
    }
    clock.now += 7 * DAY + 1;
    try {
      for (const [id, send] of calls) {
        expect((await stack.table.item(id))?.state, id).toBe('PendingDeletion');
        const reply = await send(base, id);
        expect(reply.status, id).toBe(410);
        expect(reply.body, id).toEqual({
          error_type: 'KeyDeleted',
          error_message: expect.stringContaining(`was deleted on ${String(dates.get(id))}`) as string,
          request_id: reply.headers.get('x-request-id'),
        });
        expect((await stack.table.item(id))?.state, id).toBe('Deleted');
      }
    } finally {
      clock.now = Date.now();
    }
  });
});

describe('POST /key', () => {
  it('creates a key for a new id (201), refuses one that has a key (409), and re-creates a destroyed id', async () => {
    const created = await call(base, 'POST', '/key?id=explicit');
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: 'explicit', key: expect.any(String) as string });
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect((await getKey(base, 'explicit')).body.key).toBe(created.body.key);

    const again = await call(base, 'POST', '/api/v1/key?id=explicit');
    expect(again.status).toBe(409);
    expect(again.body.error_type).toBe('KeyExists');
    expect(again.body.error_message).toMatch(/already has a key; get it instead \(GET \/key\?id=/);

    await deleteKey(base, 'explicit');
    expect((await call(base, 'POST', '/key?id=explicit')).status).toBe(409);
    clock.now += 7 * DAY + 1;
    try {
      expect((await getKey(base, 'explicit')).status).toBe(410);
      const recreated = await call(base, 'POST', '/key?id=explicit');
      expect(recreated.status).toBe(201);
      expect(recreated.body.key).not.toBe(created.body.key);
      expect((await getKey(base, 'explicit')).body.key).toBe(recreated.body.key);
    } finally {
      clock.now = Date.now();
    }
  });
});

describe('errors', () => {
  it('answers JSON 404 for unknown routes and methods, and HEAD creates nothing', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['PUT', '/key?id=x'],
      ['HEAD', '/key?id=head-only'],
      ['GET', '/api/v2/key?id=x'],
    ] as const) {
      const reply = await call(base, method, path);
      expect(reply.status, `${method} ${path}`).toBe(404);
      if (method !== 'HEAD') expect(reply.body.error_type).toBe('NotFound');
    }
    expect(await stack.table.item('head-only')).toBeUndefined();
  });

  it('answers 503 with Retry-After, naming each region and what happened, and no endpoint', async () => {
    await getKey(base, 'outage');
    stack.kms.faults.set('us-east-1', { down: {} });
    stack.kms.faults.set('us-east-2', { throttle: {} });
    stack.kms.faults.set('us-west-1', { error: {} });
    try {
      const reply = await getKey(base, 'outage');
      expect(reply.status).toBe(503);
      expect(reply.headers.get('retry-after')).toBe('2');
      expect(reply.body.error_type).toBe('KmsUnavailable');
      expect(reply.body.error_message).toContain('us-east-1: Decrypt: connection reset');
      expect(reply.body.error_message).toContain('us-east-2: Decrypt: throttled (ThrottlingException)');
      expect(reply.body.error_message).toContain('us-west-1: Decrypt: internal error (KMSInternalException)');
      expect(reply.body.error_message).not.toMatch(/127\.0\.0\.1|arn:|Rate exceeded/);
    } finally {
      stack.kms.faults.clear();
    }
  });

  it('answers 409 KeyIntegrityError for a key whose ciphertexts belong to another id', async () => {
    await getKey(base, 'tenant-a');
    const victim = await stack.table.item('tenant-a');
    await stack.table.put({ ...victim, id: 'copycat' });
    const reply = await getKey(base, 'copycat');
    expect(reply.status).toBe(409);
    expect(reply.body.error_type).toBe('KeyIntegrityError');
  });

  it('answers 503 StoreUnavailable, naming the key store and no endpoint, when the store is down', async () => {
    // A replica of its own whose store refuses connections: the shared store stays up for the other tests.
    const cut = await stack.startService({
      dynamodb: { ...stack.config.dynamodb, endpoint: 'http://127.0.0.1:9', max_attempts: 1 },
    });
    stack.kms.resetCounters();
    const reply = await getKey(cut.url, 'store-down');
    expect(reply.status).toBe(503);
    expect(reply.body.error_type).toBe('StoreUnavailable');
    expect(reply.body.error_message).toBe('the key store is unavailable: read: connection refused');
    expect(reply.headers.get('retry-after')).toBe('2');
    // A store outage never looks like "no key yet": nothing was generated.
    expect(Object.values(stack.kms.counters()).every((ops) => !ops.GenerateDataKey)).toBe(true);
  });
});

describe('request ids', () => {
  it('uses a safe incoming x-request-id, replaces an unsafe one, and returns it on every answer', async () => {
    const given = await call(base, 'GET', '/key?id=traced', { headers: { 'x-request-id': 'lb-1234.abc' } });
    expect(given.headers.get('x-request-id')).toBe('lb-1234.abc');
    const failed = await call(base, 'GET', '/key', { headers: { 'x-request-id': 'lb-5678' } });
    expect(failed.status).toBe(400);
    expect(failed.headers.get('x-request-id')).toBe('lb-5678');
    for (const unsafe of ['x'.repeat(129), 'has space', 'quote"d', '<script>']) {
      const reply = await call(base, 'GET', '/healthz', { headers: { 'x-request-id': unsafe } });
      expect(reply.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const generated = await call(base, 'GET', '/nope');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
