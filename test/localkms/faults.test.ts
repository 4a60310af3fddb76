import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  ListKeysCommand,
  ReplicateKeyCommand,
  SignCommand,
  VerifyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackAddress } from '../../src/localkms/admin.js';
import type { LocalKms } from '../../src/localkms/index.js';
import { bytes, expectKmsError, Fixture, kmsErrorOf } from '../support/local-kms.js';

const fixture = new Fixture();
let kms: LocalKms;
let east: KMSClient;
let west: KMSClient;

beforeAll(async () => {
  kms = await fixture.start({ regions: ['us-east-1', 'us-west-2'], regionPorts: { 'us-west-2': 0 } });
  east = fixture.client(kms, 'us-east-1');
  west = fixture.client(kms, 'us-west-2');
});
afterEach(() => {
  kms.faults.clear();
  kms.resetCounters();
});
afterAll(() => fixture.cleanup());

/** A failure below HTTP: the SDK got no status code at all. */
async function networkFailureOf(call: Promise<unknown>): Promise<string> {
  const error = await kmsErrorOf(call);
  expect(error.status).toBeUndefined();
  return `${error.name} ${error.message}`;
}

async function admin(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${kms.url}/admin${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const textBody = await response.text();
  return { status: response.status, json: textBody === '' ? undefined : JSON.parse(textBody) };
}

describe('down', () => {
  it('drops the connections of one region on the shared port while the others work, until cleared', async () => {
    kms.faults.set('us-east-1', { down: {} });
    expect(await networkFailureOf(east.send(new ListKeysCommand({})))).toMatch(
      /ECONNRESET|socket hang up|EPIPE/,
    );
    expect((await west.send(new ListKeysCommand({}))).Keys).toBeDefined();
    kms.faults.clear('us-east-1');
    expect((await east.send(new ListKeysCommand({}))).Keys).toBeDefined();
  });

  it('refuses connections on a region port, and listens again on the same port when cleared', async () => {
    const regionUrl = kms.regionUrls['us-west-2'] ?? '';
    const viaPort = fixture.client(regionUrl, 'us-west-2');
    expect((await viaPort.send(new ListKeysCommand({}))).Keys).toBeDefined();
    kms.faults.set('us-west-2', { down: {} });
    expect(await networkFailureOf(viaPort.send(new ListKeysCommand({})))).toMatch(
      /ECONNREFUSED|ECONNRESET|socket hang up/,
    );
    expect(
      await networkFailureOf(fixture.client(regionUrl, 'us-west-2').send(new ListKeysCommand({}))),
    ).toMatch(/ECONNREFUSED/);
    kms.faults.set('us-west-2', {});
    expect(kms.regionUrls['us-west-2']).toBe(regionUrl);
    expect((await fixture.client(regionUrl, 'us-west-2').send(new ListKeysCommand({}))).Keys).toBeDefined();
  });
});

describe('latency', () => {
  it('holds calls long enough for a client timeout to fire', async () => {
    kms.faults.set('us-east-1', { latency: { ms: 10_000 } });
    const impatient = fixture.client(kms, 'us-east-1', {
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    });
    const error = await kmsErrorOf(impatient.send(new ListKeysCommand({})));
    expect(error.status).toBeUndefined();
    expect(error.name).toMatch(/Timeout/);
    expect((await west.send(new ListKeysCommand({}))).Keys).toBeDefined();
  });

  it('delays a call that then succeeds', async () => {
    kms.faults.set('us-east-1', { latency: { ms: 300 } });
    const started = Date.now();
    expect((await east.send(new ListKeysCommand({}))).Keys).toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});

describe('throttle and error', () => {
  it('answers ThrottlingException (400) when throttling', async () => {
    kms.faults.set('us-east-1', { throttle: {} });
    const message = await expectKmsError(east.send(new ListKeysCommand({})), 'ThrottlingException', 400);
    expect(message).toBe('Rate exceeded');
  });

  it('answers KMSInternalException (500) when failing, and the counters show every retry the SDK made', async () => {
    kms.faults.set('us-east-1', { error: {} });
    await expectKmsError(east.send(new ListKeysCommand({})), 'KMSInternalException', 500);
    const retrying = fixture.client(kms, 'us-east-1', { maxAttempts: 3 });
    await expectKmsError(retrying.send(new ListKeysCommand({})), 'KMSInternalException', 500);
    expect(kms.counters()['us-east-1']?.ListKeys).toBe(4);
  });

  it('hits only the listed operations', async () => {
    const keyId = (await east.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId;
    const blob = (await east.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('x') })))
      .CiphertextBlob;
    kms.faults.set('us-east-1', { error: { operations: ['Decrypt'] } });
    expect(
      (await east.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('still fine') }))).CiphertextBlob,
    ).toBeDefined();
    await expectKmsError(
      east.send(new DecryptCommand({ CiphertextBlob: blob })),
      'KMSInternalException',
      500,
    );
  });

  it('hits a call with the given probability', async () => {
    const draws = [0.2, 0.8, 0.49, 0.51];
    const own = new Fixture();
    try {
      const server = await own.start({
        random: () => draws.shift() ?? 1,
        faults: { 'us-east-1': { throttle: { probability: 0.5 } } },
      });
      const c = own.client(server);
      const outcomes: string[] = [];
      for (let i = 0; i < 4; i++)
        outcomes.push(
          await c.send(new ListKeysCommand({})).then(
            () => 'ok',
            (error: unknown) => (error instanceof Error ? error.name : String(error)),
          ),
        );
      expect(outcomes).toEqual(['ThrottlingException', 'ok', 'ThrottlingException', 'ok']);
    } finally {
      await own.cleanup();
    }
  });
});

describe('the admin endpoint', () => {
  it('sets, shows and clears faults while the server runs', async () => {
    const put = await admin('PUT', '/faults/us-east-1', { throttle: { probability: 1 }, latency: { ms: 1 } });
    expect(put).toEqual({ status: 200, json: { throttle: { probability: 1 }, latency: { ms: 1 } } });
    await expectKmsError(east.send(new ListKeysCommand({})), 'ThrottlingException');
    expect((await admin('GET', '/faults')).json).toEqual({
      'us-east-1': { throttle: { probability: 1 }, latency: { ms: 1 } },
    });

    expect((await admin('DELETE', '/faults/us-east-1')).status).toBe(204);
    expect((await east.send(new ListKeysCommand({}))).Keys).toBeDefined();

    await admin('PUT', '/faults/us-east-1', { error: {} });
    await admin('PUT', '/faults/us-west-2', { error: {} });
    expect((await admin('DELETE', '/faults')).status).toBe(204);
    expect(kms.faults.get()).toEqual({});
  });

  it('switches a region down and up again', async () => {
    await admin('PUT', '/faults/us-east-1', { down: {} });
    await networkFailureOf(east.send(new ListKeysCommand({})));
    await admin('DELETE', '/faults/us-east-1');
    expect((await east.send(new ListKeysCommand({}))).Keys).toBeDefined();
  });

  it('refuses bad fault bodies and unknown regions with a message', async () => {
    const bad = await admin('PUT', '/faults/us-east-1', { latency: { ms: 'slow' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain('latency');
    expect((await admin('PUT', '/faults/us-east-1', '{not json')).status).toBe(400);
    expect((await admin('PUT', '/faults/us-east-1', { explode: {} })).status).toBe(400);
    const unknown = await admin('PUT', '/faults/eu-north-1', { down: {} });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json)).toContain('us-east-1, us-west-2');
    expect((await admin('GET', '/nothing-here')).status).toBe(404);
    expect((await admin('POST', '/counters')).status).toBe(405);
    expect(() => {
      kms.faults.set('us-east-1', { throttle: { probability: 2 } });
    }).toThrow(/probability/);
  });

  it('counts calls by region and operation, failed ones included, and resets the counts', async () => {
    await east.send(new ListKeysCommand({}));
    await east.send(new ListKeysCommand({}));
    await expectKmsError(
      east.send(new DecryptCommand({ CiphertextBlob: bytes('junk') })),
      'InvalidCiphertextException',
    );
    await west.send(new CreateKeyCommand({}));
    const expected = { 'us-east-1': { ListKeys: 2, Decrypt: 1 }, 'us-west-2': { CreateKey: 1 } };
    expect(kms.counters()).toEqual(expected);
    expect(await admin('GET', '/counters')).toEqual({ status: 200, json: expected });
    expect((await admin('DELETE', '/counters')).status).toBe(204);
    expect(kms.counters()).toEqual({});
  });

  it('fault and count the asymmetric, HMAC and multi-Region operations like any other', async () => {
    const signing = await east.send(
      new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
    );
    const multi = await east.send(new CreateKeyCommand({ MultiRegion: true }));
    const keyId = signing.KeyMetadata?.KeyId;
    kms.faults.set('us-east-1', { error: { operations: ['Sign'] } });
    await expectKmsError(
      east.send(new SignCommand({ KeyId: keyId, Message: bytes('m'), SigningAlgorithm: 'ECDSA_SHA_256' })),
      'KMSInternalException',
      500,
    );
    kms.faults.clear('us-east-1');
    const { Signature } = await east.send(
      new SignCommand({ KeyId: keyId, Message: bytes('m'), SigningAlgorithm: 'ECDSA_SHA_256' }),
    );
    await east.send(
      new VerifyCommand({ KeyId: keyId, Message: bytes('m'), Signature, SigningAlgorithm: 'ECDSA_SHA_256' }),
    );
    // ReplicateKey is sent to the primary's region, so that region answers and counts it.
    kms.faults.set('us-west-2', { down: {} });
    await east.send(new ReplicateKeyCommand({ KeyId: multi.KeyMetadata?.KeyId, ReplicaRegion: 'us-west-2' }));
    kms.faults.clear('us-west-2');
    expect(kms.counters()).toEqual({
      'us-east-1': { CreateKey: 2, Sign: 2, Verify: 1, ReplicateKey: 1 },
    });
  });

  it('answers loopback clients only', () => {
    expect(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'].every(isLoopbackAddress)).toBe(true);
    expect(['10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', 'fe80::1', undefined].some(isLoopbackAddress)).toBe(
      false,
    );
  });
});

describe('faults given at start', () => {
  it('are in force from the first call', async () => {
    const own = new Fixture();
    try {
      const server = await own.start({
        regions: ['us-east-1', 'us-east-2'],
        faults: { 'us-east-2': { error: {} } },
      });
      expect((await own.client(server, 'us-east-1').send(new ListKeysCommand({}))).Keys).toBeDefined();
      await expectKmsError(
        own.client(server, 'us-east-2').send(new ListKeysCommand({})),
        'KMSInternalException',
        500,
      );
    } finally {
      await own.cleanup();
    }
  });
});
