import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_CREDENTIALS, ensureEmbeddedKeys } from '../../src/cli/embedded.js';
import { AwsKmsBackend, createKmsClient } from '../../src/kms/aws-backend.js';
import type { KmsBackend } from '../../src/kms/backend.js';
import { CiphertextRejectedError, KmsUnavailableError } from '../../src/kms/errors.js';
import { regionalKmsFromConfig } from '../../src/kms/from-config.js';
import { Region } from '../../src/kms/region.js';
import { RegionalKms } from '../../src/kms/regional-kms.js';
import { startLocalKms, type LocalKms } from '../../src/localkms/index.js';
import { HedgeBudget } from '../../src/resilience/hedge-budget.js';
import { auditedLogger, recordKey } from '../support/audit.js';
import { TEST_REGIONS, testConfig } from '../support/config.js';

const context = { 'rkms:id': 'tenant-1' };
const config = testConfig({
  kms: {
    hedge_after_ms: 0,
    circuit: { failure_rate_percent: 50, minimum_calls: 2, window_ms: 10_000, reset_after_ms: 5_000 },
  },
});
let local: LocalKms;
const closers: (() => void)[] = [];

beforeAll(async () => {
  local = await startLocalKms({ regions: TEST_REGIONS, port: 0, logger: auditedLogger('regional-kms') });
  await ensureEmbeddedKeys(config, local.url);
});
afterEach(() => {
  local.faults.clear();
  local.resetCounters();
  while (closers.length) closers.pop()?.();
});
afterAll(async () => {
  await local.close();
});

/** RKMS's regions over the local KMS, with a clock the test moves. */
function regions(overrides: Partial<typeof config.kms> = {}) {
  const clock = { now: Date.parse('2026-11-24T12:00:00Z') };
  const kms = regionalKmsFromConfig({
    config: { ...config.kms, ...overrides },
    clock: () => clock.now,
    endpoint: local.url,
    credentials: EMBEDDED_CREDENTIALS,
    logger: auditedLogger('regional-kms'),
  });
  closers.push(() => {
    kms.close();
  });
  return { kms, clock };
}

function backendFor(region: string): KmsBackend {
  return new AwsKmsBackend({
    region,
    endpoint: local.url,
    kms: config.kms,
    credentials: EMBEDDED_CREDENTIALS,
  });
}

const calls = (region: string, operation: string) => local.counters()[region]?.[operation] ?? 0;
const totalCalls = () =>
  Object.values(local.counters()).reduce(
    (sum, ops) => sum + Object.values(ops).reduce((a, b) => a + b, 0),
    0,
  );
/** Base64 of a key, remembered for the log audit. */
const remember = (key: Uint8Array) => {
  const encoded = Buffer.from(key).toString('base64');
  recordKey(encoded);
  return encoded;
};

async function newKey(kms: RegionalKms) {
  const created = await kms.newDataKey(context, 32);
  remember(created.plaintext);
  local.resetCounters();
  return created;
}

describe('RegionalKms.newDataKey', () => {
  it('generates in one region and encrypts in every other, each copy bound to the id', async () => {
    const { kms } = regions();
    const { plaintext, copies, missing } = await kms.newDataKey(context, 32);
    const key = remember(plaintext);
    expect(Object.keys(copies)).toEqual(TEST_REGIONS);
    expect(missing).toEqual([]);
    expect(calls('us-east-1', 'GenerateDataKey')).toBe(1);
    expect(calls('us-east-2', 'Encrypt') + calls('us-west-1', 'Encrypt')).toBe(2);
    for (const region of TEST_REGIONS) {
      const copy = copies[region] as Uint8Array;
      expect(remember((await kms.decryptIn(region, copy, context)).plaintext)).toBe(key);
      await expect(kms.decryptIn(region, copy, { 'rkms:id': 'another' })).rejects.toMatchObject({
        kind: 'rejected',
      });
    }
  });

  it('creates the key with a quorum of copies while one region is down, and names the missing one', async () => {
    const { kms } = regions();
    local.faults.set('us-east-2', { down: {} });
    const { plaintext, copies, missing } = await kms.newDataKey(context, 32);
    remember(plaintext);
    expect(Object.keys(copies)).toEqual(['us-east-1', 'us-west-1']);
    expect(missing).toEqual(['us-east-2']);
  });

  it('generates in the next region when the first fails', async () => {
    const { kms } = regions();
    local.faults.set('us-east-1', { error: {} });
    const { plaintext, copies } = await kms.newDataKey(context, 32);
    remember(plaintext);
    expect(calls('us-east-2', 'GenerateDataKey')).toBe(1);
    // us-east-1 already failed in this request: it is not asked again.
    expect(Object.keys(copies)).toEqual(['us-east-2', 'us-west-1']);
  });

  it('fails, keeping no key, when fewer regions than min_regions hold a copy', async () => {
    const { kms } = regions({ min_regions: 3 });
    local.faults.set('us-west-1', { throttle: {} });
    const failure = kms.newDataKey(context, 32);
    await expect(failure).rejects.toBeInstanceOf(KmsUnavailableError);
    await expect(failure).rejects.toThrow(
      /3 of 3 regions.*us-west-1: Encrypt: throttled \(ThrottlingException\)/,
    );
  });

  it('fails at once, with no KMS call, when fewer regions than min_regions can be called', async () => {
    const { kms } = regions({ min_regions: 2 });
    local.faults.set('us-east-1', { down: {} });
    local.faults.set('us-east-2', { down: {} });
    // Opens both circuits: two failed calls each.
    for (let i = 0; i < 2; i++) await expect(kms.newDataKey(context, 32)).rejects.toThrow();
    expect(kms.health().map((h) => h.circuit)).toEqual(['open', 'open', 'closed']);
    local.resetCounters();
    const failure = kms.newDataKey(context, 32);
    await expect(failure).rejects.toThrow(/2 of 3 regions.*us-east-1: skipped: circuit open/);
    expect(totalCalls()).toBe(0);
  });

  it('does not wait for a hung region once the quorum holds copies', async () => {
    const { kms } = regions({ hedge_after_ms: 50 });
    local.faults.set('us-west-1', { latency: { ms: 10_000 } });
    const { plaintext, missing } = await kms.newDataKey(context, 32);
    remember(plaintext);
    expect(missing).toEqual(['us-west-1']);
  });
});

describe('RegionalKms.open', () => {
  it('decrypts in one region only when it is healthy', async () => {
    const { kms } = regions();
    const { copies, plaintext } = await newKey(kms);
    const opened = await kms.open(copies, context);
    expect(opened.region).toBe('us-east-1');
    expect(remember(opened.plaintext)).toBe(remember(plaintext));
    expect(totalCalls()).toBe(1);
  });

  it('falls back to the next region when a region is down, throttles or errs', async () => {
    const { kms } = regions({ circuit: { ...config.kms.circuit, minimum_calls: 100 } });
    const { copies } = await newKey(kms);
    for (const fault of [{ down: {} }, { throttle: {} }, { error: {} }]) {
      local.faults.set('us-east-1', fault);
      const opened = await kms.open(copies, context);
      remember(opened.plaintext);
      expect(opened.region).toBe('us-east-2');
    }
  });

  it('hedges to the next region when the first is slow', async () => {
    const { kms } = regions({ hedge_after_ms: 50 });
    const { copies } = await newKey(kms);
    local.faults.set('us-east-1', { latency: { ms: 5_000 } });
    const opened = await kms.open(copies, context);
    remember(opened.plaintext);
    expect(opened.region).toBe('us-east-2');
  });

  it('sends no hedge when the budget is spent', async () => {
    const clock = () => 0;
    const members = TEST_REGIONS.map(
      (name) =>
        new Region({
          name,
          keyId: `alias/rkms-${name}`,
          backend: backendFor(name),
          circuit: config.kms.circuit,
          clock,
        }),
    );
    const budget = new HedgeBudget({ percent: 0, floor: 0, windowMs: 10_000, clock });
    const kms = new RegionalKms(members, { hedgeAfterMs: 20, minRegions: 2, budget });
    closers.push(() => {
      kms.close();
    });
    const { copies } = await newKey(kms);
    local.faults.set('us-east-1', { latency: { ms: 300 } });
    const opened = await kms.open(copies, context);
    remember(opened.plaintext);
    expect(opened.region).toBe('us-east-1');
    expect(calls('us-east-2', 'Decrypt')).toBe(0);
  });

  it('skips a damaged copy, reports it as refused, and does not blame its region', async () => {
    const { kms } = regions();
    const { copies, plaintext } = await newKey(kms);
    const damaged = { ...copies, 'us-east-1': flipped(copies['us-east-1'] as Uint8Array) };
    for (let i = 0; i < 3; i++) {
      const opened = await kms.open(damaged, context);
      expect(remember(opened.plaintext)).toBe(remember(plaintext));
      expect(opened.region).toBe('us-east-2');
      expect(opened.refused.map((f) => [f.region, f.kind])).toEqual([['us-east-1', 'rejected']]);
    }
    expect(kms.health()[0]?.circuit).toBe('closed');
  });

  it('reports a key every region refuses as an integrity problem, not an outage', async () => {
    const { kms } = regions();
    const { copies } = await newKey(kms);
    await expect(kms.open(copies, { 'rkms:id': 'thief' })).rejects.toBeInstanceOf(CiphertextRejectedError);
  });

  it('names every region and its reason, never an endpoint, when none can decrypt', async () => {
    const { kms } = regions();
    const { copies } = await newKey(kms);
    local.faults.set('us-east-1', { down: {} });
    local.faults.set('us-east-2', { throttle: {} });
    local.faults.set('us-west-1', { error: {} });
    const failure = kms.open(copies, context);
    await expect(failure).rejects.toBeInstanceOf(KmsUnavailableError);
    const message = await failure.catch((err: unknown) => (err as Error).message);
    expect(message).toMatch(/us-east-1: Decrypt: connection reset/);
    expect(message).toMatch(/us-east-2: Decrypt: throttled \(ThrottlingException\)/);
    expect(message).toMatch(/us-west-1: Decrypt: internal error \(KMSInternalException\)/);
    expect(message).not.toMatch(/127\.0\.0\.1|arn:/);
  });

  it('skips a region whose key is disabled, calls it misconfigured, and uses it again once a probe succeeds', async () => {
    const { kms, clock } = regions();
    const { copies } = await newKey(kms);
    const admin = createKmsClient({
      region: 'us-east-1',
      endpoint: local.url,
      credentials: EMBEDDED_CREDENTIALS,
      kms: config.kms,
    });
    closers.push(() => {
      admin.destroy();
    });
    const keyId = (await admin.send(new DescribeKeyCommand({ KeyId: 'alias/rkms-us-east-1' }))).KeyMetadata
      ?.KeyId;
    await admin.send(new DisableKeyCommand({ KeyId: keyId }));
    remember((await kms.open(copies, context)).plaintext);
    expect(kms.health()[0]).toMatchObject({
      circuit: 'open',
      trippedBy: 'misconfigured',
      lastCall: { outcome: 'misconfigured', reason: 'key disabled (DisabledException)' },
    });
    local.resetCounters();
    remember((await kms.open(copies, context)).plaintext);
    expect(calls('us-east-1', 'Decrypt')).toBe(0);

    await admin.send(new EnableKeyCommand({ KeyId: keyId }));
    clock.now += config.kms.circuit.reset_after_ms;
    const probed = await kms.open(copies, context);
    remember(probed.plaintext);
    expect(probed.region).toBe('us-east-1');
    expect(kms.health()[0]?.circuit).toBe('closed');
  });

  it('probes a recovered region with real reads: the nearest region is used again after reset_after_ms', async () => {
    const { kms, clock } = regions();
    const { copies } = await newKey(kms);
    local.faults.set('us-east-1', { down: {} });
    for (let i = 0; i < 3; i++) remember((await kms.open(copies, context)).plaintext);
    expect(kms.health()[0]?.circuit).toBe('open');
    local.faults.clear();
    local.resetCounters();
    clock.now += config.kms.circuit.reset_after_ms - 1;
    remember((await kms.open(copies, context)).plaintext);
    expect(calls('us-east-1', 'Decrypt')).toBe(0);
    clock.now += 1;
    expect(kms.preferred()[0]?.name).toBe('us-east-1');
    const opened = await kms.open(copies, context);
    remember(opened.plaintext);
    expect(opened.region).toBe('us-east-1');
    expect(kms.health()[0]?.circuit).toBe('closed');
  });

  it('gives up on a region that accepts connections but never answers, and falls back', async () => {
    const sockets = new Set<Socket>();
    const hung: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      for (const socket of sockets) socket.destroy();
      hung.close();
    });
    const { kms } = regions();
    const { copies } = await newKey(kms);
    const stuck = new Region({
      name: 'us-east-1',
      keyId: 'alias/rkms-us-east-1',
      backend: new AwsKmsBackend({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`,
        kms: { timeout_ms: 200, connect_timeout_ms: 200, max_attempts: 1 },
        credentials: EMBEDDED_CREDENTIALS,
      }),
      circuit: config.kms.circuit,
      clock: Date.now,
    });
    const healthy = new Region({
      name: 'us-east-2',
      keyId: 'alias/rkms-us-east-2',
      backend: backendFor('us-east-2'),
      circuit: config.kms.circuit,
      clock: Date.now,
    });
    const mixed = new RegionalKms([stuck, healthy], { hedgeAfterMs: 0, minRegions: 1 });
    closers.push(() => {
      mixed.close();
    });
    const opened = await mixed.open(copies, context);
    remember(opened.plaintext);
    expect(opened.region).toBe('us-east-2');
    expect(sockets.size).toBeGreaterThan(0);
    expect(mixed.health()[0]?.lastCall).toMatchObject({
      outcome: 'transient',
      reason: 'timed out waiting for a reply',
    });
  });

  it('tries a region that lost a hedged race after the others, and first again once the memory passes', async () => {
    // A hedge delay far above any answer on a busy machine, a region far slower than it.
    const { kms, clock } = regions({ hedge_after_ms: 500 });
    const { copies } = await newKey(kms);
    local.faults.set('us-east-1', { latency: { ms: 10_000 } });
    const opened = await kms.open(copies, context);
    remember(opened.plaintext);
    local.faults.clear();
    expect(opened.region).toBe('us-east-2');
    expect(kms.preferred().at(-1)?.name).toBe('us-east-1');
    clock.now += config.kms.circuit.window_ms + 1;
    expect(kms.preferred()[0]?.name).toBe('us-east-1');
  });

  it('counts a malformed reply against the region', async () => {
    const backend = backendFor('us-east-1');
    backend.decrypt = () => Promise.reject(malformedReply());
    const region = new Region({
      name: 'us-east-1',
      keyId: 'alias/rkms-us-east-1',
      backend,
      circuit: config.kms.circuit,
      clock: Date.now,
    });
    const kms = new RegionalKms([region], { hedgeAfterMs: 0, minRegions: 1 });
    closers.push(() => {
      kms.close();
    });
    await expect(kms.open({ 'us-east-1': new Uint8Array([1]) }, context)).rejects.toThrow(
      /us-east-1: Decrypt: malformed reply/,
    );
    expect(region.health.lastCall?.outcome).toBe('transient');
  });
});

function flipped(copy: Uint8Array): Uint8Array {
  const damaged = Uint8Array.from(copy);
  damaged[damaged.length - 5] = (damaged[damaged.length - 5] ?? 0) ^ 0xff;
  return damaged;
}

function malformedReply(): Error {
  return Object.assign(new Error('Decrypt returned no plaintext'), { name: 'MalformedReplyError' });
}
