import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_CREDENTIALS } from '../../src/cli/embedded.js';
import { AwsKmsBackend } from '../../src/kms/aws-backend.js';
import { RegionCallError } from '../../src/kms/errors.js';
import { Region } from '../../src/kms/region.js';
import { deadlineAfter } from '../../src/resilience/deadline.js';

let hung: Server;
const sockets = new Set<Socket>();

beforeAll(async () => {
  // Accepts connections and never answers: a region that hangs.
  hung = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
});
afterAll(() => {
  for (const socket of sockets) socket.destroy();
  hung.close();
});

/** A region over the hung endpoint whose three attempts add up to well over a 400 ms deadline. */
function hungRegion(timeoutMs: number) {
  const outcomes: string[] = [];
  const region = new Region({
    name: 'us-east-1',
    keyId: 'alias/rkms-us-east-1',
    backend: new AwsKmsBackend({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`,
      kms: { timeout_ms: timeoutMs, connect_timeout_ms: 1_000, max_attempts: 3 },
      credentials: EMBEDDED_CREDENTIALS,
    }),
    circuit: { failure_rate_percent: 50, minimum_calls: 3, window_ms: 60_000, reset_after_ms: 60_000 },
    attemptTimeoutMs: timeoutMs,
    clock: () => 0,
    onCall: ({ outcome }) => outcomes.push(outcome),
  });
  return { region, outcomes };
}

const decryptWithin = (region: Region, ms: number) =>
  region.decrypt(new Uint8Array([1, 2, 3]), { 'rkms:id': 'x' }, deadlineAfter(ms));

describe('Region under a request deadline', () => {
  it('counts calls the deadline cut off past an attempt timeout against the region, until it is skipped', async () => {
    const { region, outcomes } = hungRegion(200);
    try {
      const answers = await Promise.allSettled([1, 2, 3].map(() => decryptWithin(region, 400)));
      expect(answers.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
      // The caller stops waiting at the deadline; the aborted SDK call reports its outcome just after.
      await expect.poll(() => outcomes).toEqual(['transient', 'transient', 'transient']);
      expect(region.circuit).toBe('open');
      expect(region.health.lastCall).toMatchObject({
        operation: 'Decrypt',
        outcome: 'transient',
        reason: 'no answer before the request deadline',
      });
      const skipped = decryptWithin(region, 400);
      await expect(skipped).rejects.toBeInstanceOf(RegionCallError);
      await expect(skipped).rejects.toMatchObject({ kind: 'skipped' });
    } finally {
      region.close();
    }
  });

  it('does not blame the region for a deadline that fired before an attempt could time out', async () => {
    const { region, outcomes } = hungRegion(5_000);
    try {
      for (let i = 0; i < 4; i++) {
        await expect(decryptWithin(region, 50)).rejects.toMatchObject({ kind: 'cancelled' });
      }
      await expect.poll(() => outcomes).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
      expect(region.circuit).toBe('closed');
    } finally {
      region.close();
    }
  });
});
