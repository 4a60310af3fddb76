/**
 * What a read costs in KMS calls (issue #9's behaviour behind the benchmark's figures): a
 * cached read none, a read with the cache off one Decrypt, a burst for one id one in all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../support/config.js';
import { getKey } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
const config = testConfig({ kms: { hedge_after_ms: 0 } });
const ids = Array.from({ length: 20 }, (_, i) => `kms-calls-${i}`);

beforeAll(async () => {
  stack = await startStack(config, 'kms-calls');
});
afterAll(async () => {
  await stack.close();
});

/** KMS calls of every operation in every region since the counters were last reset. */
const calls = () =>
  Object.values(stack.kms.counters()).reduce(
    (sum, operations) => sum + Object.values(operations).reduce((a, b) => a + b, 0),
    0,
  );

describe('KMS calls per read', () => {
  it('is 0 for a cached read', async () => {
    const { url } = await stack.startService({ cache: { ...config.cache, ttl_seconds: 300 } });
    for (const id of ids) expect((await getKey(url, id)).status).toBe(200);
    stack.kms.resetCounters();
    for (let round = 0; round < 5; round++) {
      for (const id of ids) expect((await getKey(url, id)).status).toBe(200);
    }
    expect(calls()).toBe(0);
  });

  it('is 1 Decrypt for a read with the cache off', async () => {
    const { url } = await stack.startService({ cache: { ...config.cache, ttl_seconds: 0 } });
    stack.kms.resetCounters();
    for (const id of ids) expect((await getKey(url, id)).status).toBe(200);
    const counters = stack.kms.counters();
    expect(calls()).toBe(ids.length);
    expect(Object.values(counters).reduce((sum, ops) => sum + (ops.Decrypt ?? 0), 0)).toBe(ids.length);
  });

  it('is 1 Decrypt for a burst of concurrent reads of one id with the cache off (single-flight)', async () => {
    const { url } = await stack.startService({ cache: { ...config.cache, ttl_seconds: 0 } });
    stack.kms.resetCounters();
    // A slow Decrypt keeps the first load in flight while the others arrive, however busy the machine.
    stack.kms.faults.set('us-east-1', { latency: { ms: 1500, operations: ['Decrypt'] } });
    try {
      const replies = await Promise.all(Array.from({ length: 50 }, () => getKey(url, ids[0] ?? '')));
      expect(new Set(replies.map((r) => r.status))).toEqual(new Set([200]));
      expect(new Set(replies.map((r) => r.body.key)).size).toBe(1);
    } finally {
      stack.kms.faults.clear();
    }
    expect(calls()).toBe(1);
  });
});
