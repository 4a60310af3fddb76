import { status as Code } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../support/config.js';
import { GRPC, listenGrpc, RkmsGrpcClient } from '../support/grpc.js';
import { call, deleteKey, getKey } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

/** HTTP and gRPC on one replica (one KeyService), on the real store and local KMS. */
const DAY = 86_400_000;
let stack: Stack;
let http: string;
let grpc: RkmsGrpcClient;
const clock = { now: Date.now() };

beforeAll(async () => {
  stack = await startStack(testConfig({ cache: { ttl_seconds: 0 }, kms: { hedge_after_ms: 0 } }), 'grpc-api');
  const { service, url } = await stack.startService(GRPC, () => clock.now);
  http = url;
  grpc = new RkmsGrpcClient(await listenGrpc(service));
});

afterAll(async () => {
  grpc.close();
  await stack.close();
});

describe('the same key over gRPC and HTTP', () => {
  it('GetKey answers the key HTTP answers for the id, whichever comes first', async () => {
    const viaGrpc = await grpc.getKey('first-over-grpc');
    expect(viaGrpc.codeName).toBe('OK');
    expect((await getKey(http, 'first-over-grpc')).body).toEqual(viaGrpc.message);

    const viaHttp = await getKey(http, 'first-over-http');
    expect((await grpc.getKey('first-over-http')).message).toEqual(viaHttp.body);
    expect(Buffer.from(viaHttp.body.key as string, 'base64')).toHaveLength(32);
  });

  it('accepts the ids HTTP accepts, up to 512 characters of any Unicode text', async () => {
    for (const id of ['ключ-🔑', 'a/b?c=d&e', ' spaced ', '\ufeffbom', 'x'.repeat(512), '🔑'.repeat(512)]) {
      const viaGrpc = await grpc.getKey(id);
      expect(viaGrpc.codeName, id).toBe('OK');
      expect((await getKey(http, id)).body, id).toEqual(viaGrpc.message);
    }
  });

  it('CreateKey creates a key HTTP then serves, and answers ALREADY_EXISTS KeyExists afterwards', async () => {
    const created = await grpc.createKey('explicit');
    expect(created.codeName).toBe('OK');
    expect((await getKey(http, 'explicit')).body).toEqual(created.message);

    const again = await grpc.createKey('explicit');
    const viaHttp = await call(http, 'POST', '/key?id=explicit');
    expect(again).toMatchObject({ code: Code.ALREADY_EXISTS, errorType: 'KeyExists' });
    expect(again.details).toBe(viaHttp.body.error_message);
    expect(again.details).toMatch(/\(GET \/key\?id=\.\.\., or GetKey over gRPC\)$/);
  });

  it('puts the request id in the trailers: the caller x-request-id when safe, a new one otherwise', async () => {
    const given = await grpc.getKey('traced', { 'x-request-id': 'lb-1234.abc' });
    expect(given.trailers.get('x-request-id')).toEqual(['lb-1234.abc']);
    const unsafe = await grpc.getKey('traced', { 'x-request-id': 'has space' });
    expect(unsafe.trailers.get('x-request-id')[0]).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('deletion over gRPC', () => {
  it('DeleteKey and RestoreKey answer the KeyStatus HTTP answers; GetKey of a pending key is FAILED_PRECONDITION', async () => {
    const key = (await grpc.getKey('to-delete')).message;
    const deleted = await grpc.deleteKey('to-delete');
    expect(deleted.codeName).toBe('OK');
    expect(deleted.message).toEqual({
      id: 'to-delete',
      state: 'PendingDeletion',
      deletion_date: new Date(clock.now + 7 * DAY).toISOString(),
    });
    expect((await deleteKey(http, 'to-delete')).body).toEqual(deleted.message);

    const pending = await grpc.getKey('to-delete');
    const pendingHttp = await getKey(http, 'to-delete');
    expect(pending).toMatchObject({ code: Code.FAILED_PRECONDITION, errorType: 'KeyPendingDeletion' });
    expect(pending.details).toBe(pendingHttp.body.error_message);
    expect(pending.status?.errorInfo).toEqual({ reason: 'KeyPendingDeletion', domain: 'rkms' });
    // One message for both transports: it names the call that fixes it in each.
    expect(pending.details).toMatch(/POST \/key\/restore\?id=\.\.\., or RestoreKey over gRPC\)$/);

    const restored = await grpc.restoreKey('to-delete');
    expect(restored.message).toEqual({ id: 'to-delete', state: 'Enabled', deletion_date: '' });
    expect((await grpc.getKey('to-delete')).message).toEqual(key);
  });

  it('answers NOT_FOUND KeyNotFound to DeleteKey and RestoreKey of an id that has no key', async () => {
    for (const outcome of [await grpc.deleteKey('ghost'), await grpc.restoreKey('ghost')]) {
      expect(outcome).toMatchObject({
        code: Code.NOT_FOUND,
        errorType: 'KeyNotFound',
        details: 'no key exists for id "ghost"',
      });
    }
    expect((await deleteKey(http, 'ghost')).body.error_message).toBe('no key exists for id "ghost"');
  });

  it('answers FAILED_PRECONDITION KeyDeleted once the key is destroyed, until CreateKey makes a new one', async () => {
    const first = (await grpc.getKey('destroyed')).message;
    await grpc.deleteKey('destroyed');
    clock.now += 7 * DAY + 1;
    try {
      for (const outcome of [
        await grpc.getKey('destroyed'),
        await grpc.deleteKey('destroyed'),
        await grpc.restoreKey('destroyed'),
      ]) {
        expect(outcome).toMatchObject({ code: Code.FAILED_PRECONDITION, errorType: 'KeyDeleted' });
        expect(outcome.details).toBe((await getKey(http, 'destroyed')).body.error_message);
      }
      expect((await grpc.getKey('destroyed')).details).toMatch(
        /\(POST \/key\?id=\.\.\., or CreateKey over gRPC\)$/,
      );
      const recreated = await grpc.createKey('destroyed');
      expect(recreated.codeName).toBe('OK');
      expect(recreated.message?.key).not.toBe(first?.key);
      expect((await getKey(http, 'destroyed')).body).toEqual(recreated.message);
    } finally {
      clock.now = Date.now();
    }
  });

  it('answers FAILED_PRECONDITION KeyDeleted, never a state, when DeleteKey or RestoreKey destroys the key', async () => {
    const calls = [
      ['grpc-due-then-delete', (id: string) => grpc.deleteKey(id)],
      ['grpc-due-then-restore', (id: string) => grpc.restoreKey(id)],
    ] as const;
    for (const [id] of calls) {
      await grpc.getKey(id);
      await grpc.deleteKey(id);
    }
    clock.now += 7 * DAY + 1;
    try {
      for (const [id, send] of calls) {
        expect((await stack.table.item(id))?.state, id).toBe('PendingDeletion');
        const outcome = await send(id);
        expect(outcome, id).toMatchObject({ code: Code.FAILED_PRECONDITION, errorType: 'KeyDeleted' });
        expect(outcome.message, id).toBeUndefined();
        expect((await stack.table.item(id))?.state, id).toBe('Deleted');
      }
    } finally {
      clock.now = Date.now();
    }
  });
});

describe('invalid requests', () => {
  const request = (id: Buffer) => Buffer.concat([Buffer.from([0x0a, id.length]), id]);

  it.each([
    ['no id', {}, /the field id is required and must not be empty/],
    ['an empty id', { id: '' }, /the field id is required and must not be empty/],
    ['513 characters', { id: 'x'.repeat(513) }, /too long: at most 512 characters/],
    ['513 emoji', { id: '🔑'.repeat(513) }, /too long: at most 512 characters/],
    ['NUL', { id: 'a\u0000b' }, /without control characters/],
    ['a newline', { id: 'a\nb' }, /without control characters/],
    ['DEL', { id: 'a\u007fb' }, /without control characters/],
    ['a C1 control', { id: 'a\u0085b' }, /without control characters/],
    // A JavaScript client encodes a lone surrogate as bytes that are not UTF-8.
    ['a lone surrogate', { id: '\ud800' }, /the field id is not valid UTF-8/],
  ])('answers INVALID_ARGUMENT BadRequest to %s, for every method', async (_label, message, pattern) => {
    const id = (message as { id?: string }).id;
    for (const outcome of [
      await grpc.getKey(id as string),
      await grpc.createKey(id as string),
      await grpc.deleteKey(id as string),
      await grpc.restoreKey(id as string),
    ]) {
      expect(outcome).toMatchObject({ code: Code.INVALID_ARGUMENT, errorType: 'BadRequest' });
      expect(outcome.details).toMatch(pattern);
      expect(outcome.status?.errorInfo?.reason).toBe('BadRequest');
    }
  });

  it('refuses invalid UTF-8 instead of reading it as another id', async () => {
    const outcome = await grpc.raw('GetKey', request(Buffer.from([0x61, 0xff, 0xfe])));
    expect(outcome).toMatchObject({
      code: Code.INVALID_ARGUMENT,
      details: 'the field id is not valid UTF-8',
    });
    expect(await stack.table.item('a\ufffd\ufffd')).toBeUndefined();
  });

  it('refuses a request that is not protobuf, and one larger than any id', async () => {
    const broken = await grpc.raw('GetKey', Buffer.from([0x0a, 0x05, 0x61]));
    expect(broken).toMatchObject({
      code: Code.INVALID_ARGUMENT,
      errorType: 'BadRequest',
      details: 'the request is not a valid protobuf message',
    });
    const huge = await grpc.raw(
      'GetKey',
      Buffer.concat([Buffer.from([0x0a, 0x80, 0xa0, 0x01]), Buffer.alloc(20_480, 0x61)]),
    );
    expect(huge.code).toBe(Code.RESOURCE_EXHAUSTED);
  });

  it('ignores fields it does not know and reads the last id, as protobuf decoders do', async () => {
    const unknownField = Buffer.from([0x10, 0x01]);
    const outcome = await grpc.raw(
      'GetKey',
      Buffer.concat([request(Buffer.from('old')), unknownField, request(Buffer.from('wire-id'))]),
    );
    expect(outcome.codeName).toBe('OK');
    expect((await grpc.getKey('wire-id')).message).toEqual((await getKey(http, 'wire-id')).body);
  });
});

describe('failures of the parts behind the service', () => {
  it('answers DATA_LOSS KeyIntegrityError for a key whose ciphertexts belong to another id', async () => {
    await grpc.getKey('victim');
    await stack.table.put({ ...(await stack.table.item('victim')), id: 'copycat' });
    const outcome = await grpc.getKey('copycat');
    expect(outcome).toMatchObject({ code: Code.DATA_LOSS, errorType: 'KeyIntegrityError' });
    expect(outcome.details).toBe((await getKey(http, 'copycat')).body.error_message);
  });

  it('answers UNAVAILABLE KmsUnavailable with a 2 s RetryInfo when no KMS region answers', async () => {
    const { service } = await stack.startService(GRPC);
    const client = new RkmsGrpcClient(await listenGrpc(service));
    stack.kms.faults.set('us-east-1', { down: {} });
    stack.kms.faults.set('us-east-2', { throttle: {} });
    stack.kms.faults.set('us-west-1', { error: {} });
    try {
      const outcome = await client.getKey('kms-outage');
      expect(outcome).toMatchObject({ code: Code.UNAVAILABLE, errorType: 'KmsUnavailable' });
      expect(outcome.trailers.get('retry-after')).toEqual(['2']);
      expect(outcome.status).toMatchObject({
        code: Code.UNAVAILABLE,
        message: outcome.details,
        retryDelaySeconds: 2,
        errorInfo: { reason: 'KmsUnavailable', domain: 'rkms' },
      });
      expect(outcome.details).toMatch(/^no KMS region could /);
      expect(outcome.details).toContain('us-east-2');
      expect(outcome.details).not.toMatch(/127\.0\.0\.1|arn:/);
    } finally {
      stack.kms.faults.clear();
      client.close();
    }
  });

  it('answers UNAVAILABLE StoreUnavailable with a 2 s RetryInfo, and HTTP message, when the store is down', async () => {
    const { service, url } = await stack.startService({
      ...GRPC,
      dynamodb: { ...stack.config.dynamodb, endpoint: 'http://127.0.0.1:9', max_attempts: 1 },
    });
    const client = new RkmsGrpcClient(await listenGrpc(service));
    try {
      const outcome = await client.getKey('store-down');
      expect(outcome).toMatchObject({
        code: Code.UNAVAILABLE,
        errorType: 'StoreUnavailable',
        details: 'the key store is unavailable: read: connection refused',
      });
      expect(outcome.details).toBe((await getKey(url, 'store-down')).body.error_message);
      expect(outcome.status?.retryDelaySeconds).toBe(2);
      expect(outcome.trailers.get('retry-after')).toEqual(['2']);
    } finally {
      client.close();
    }
  });
});

it('runs no gRPC server when [grpc] port is not set', async () => {
  expect((await stack.startService()).service.grpc).toBeUndefined();
});
