import type { AddressInfo } from 'node:net';
import { DecryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_CREDENTIALS } from '../../src/config/aws.js';
import { buildApp } from '../../src/http/app.js';
import { KeyCache } from '../../src/keys/cache.js';
import { KeyService } from '../../src/keys/service.js';
import { DynamoStore } from '../../src/store/dynamodb.js';
import { ensureTable } from '../../src/store/table.js';
import { kmsError } from '../support/aws-errors.js';
import { auditedLogger } from '../support/audit.js';
import { TEST_REGIONS, testConfig } from '../support/config.js';
import { startDynalite, type RunningDynalite } from '../support/dynalite.js';
import { fakeRegionalKms } from '../support/fake-kms.js';
import { call, deleteKey, getKey, restoreKey } from '../support/http.js';

let dynalite: RunningDynalite;
let app: FastifyInstance;
let base: string;
let fake: ReturnType<typeof fakeRegionalKms>;
let store: DynamoStore;

beforeAll(async () => {
  dynalite = await startDynalite();
  const config = testConfig({ cache: { ttl_seconds: 0 } });
  store = new DynamoStore({
    config: { ...config.dynamodb, endpoint: dynalite.endpoint },
    credentials: EMBEDDED_CREDENTIALS,
  });
  await ensureTable(store.homeClient, config.dynamodb.table_name);
  fake = fakeRegionalKms(TEST_REGIONS);
  const logger = auditedLogger('http-routes');
  const keys = new KeyService({
    store,
    kms: fake.kms,
    cache: new KeyCache({ ttlMs: 0, maxEntries: 1 }),
    dataKeyBytes: 32,
    deletionWindowDays: 7,
    logger,
  });
  app = await buildApp({ keys, store, kms: fake.kms, logger, apiVersion: 'v1' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app.close();
  fake.kms.close();
  store.close();
  await dynalite.close();
});

describe('GET /key', () => {
  it('answers {id, key} with a 32-byte base64 key that no cache may keep', async () => {
    const reply = await getKey(base, 'tenant-a');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ id: 'tenant-a', key: expect.any(String) });
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
      deletion_date: expect.any(String),
    });
    const days = (Date.parse(deleted.body.deletion_date as string) - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(7);

    for (const prefix of ['', '/api/v1']) {
      const refused = await getKey(base, 'to-delete', prefix);
      expect(refused.status).toBe(409);
      expect(refused.body.error_type).toBe('KeyPendingDeletion');
      expect(refused.body.error_message).toMatch(/pending deletion on .*POST \/key\/restore/);
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
        error_message: 'no key exists for this id: "ghost"',
      });
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
    expect(await store.get('head-only')).toBeUndefined();
  });

  it('answers 503 with Retry-After, naming each region, when no KMS region can serve', async () => {
    await getKey(base, 'outage');
    for (const mock of Object.values(fake.mocks))
      mock.on(DecryptCommand).rejects(kmsError('KMSInternalException', 'region down', 'server'));
    const reply = await getKey(base, 'outage');
    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).toBe('2');
    expect(reply.body.error_type).toBe('KmsUnavailable');
    for (const region of TEST_REGIONS) {
      expect(reply.body.error_message).toContain(`${region}: Decrypt: KMSInternalException: region down`);
    }
  });

  it('answers 409 KeyIntegrityError for a key whose ciphertexts belong to another id', async () => {
    const victim = await store.get('tenant-a');
    await store.create({ id: 'copycat', ciphertexts: victim!.ciphertexts, createdAt: 'now' });
    for (const mock of Object.values(fake.mocks))
      mock.on(DecryptCommand).rejects(kmsError('InvalidCiphertextException', 'invalid'));
    const reply = await getKey(base, 'copycat');
    expect(reply.status).toBe(409);
    expect(reply.body.error_type).toBe('KeyIntegrityError');
  });

  it('answers 503 StoreUnavailable when the store cannot be reached', async () => {
    for (const mock of Object.values(fake.mocks)) mock.resetHistory();
    await dynalite.close();
    const reply = await getKey(base, 'store-down');
    expect(reply.status).toBe(503);
    expect(reply.body.error_type).toBe('StoreUnavailable');
    expect(reply.body.error_message).toMatch(
      /the key store \(DynamoDB table rkms_test_\w+ in us-east-1\) is unavailable/,
    );
    expect(reply.headers.get('retry-after')).toBe('2');
    // A store outage never looks like "no key yet": nothing was generated.
    for (const mock of Object.values(fake.mocks))
      expect(mock.commandCalls(GenerateDataKeyCommand)).toHaveLength(0);
  });
});
