import { status as Code } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../../src/auth/events.js';
import { newToken, tokenSha256 } from '../../../src/auth/token.js';
import type { Config } from '../../../src/config/schema.js';
import { testConfig } from '../../support/config.js';
import { GRPC, listenGrpc, RkmsGrpcClient } from '../../support/grpc.js';
import { call } from '../../support/http.js';
import { startStack, type RunningService, type Stack } from '../../support/stack.js';

const tokens = { busy: newToken(), calm: newToken() };
let stack: Stack;
const clients: RkmsGrpcClient[] = [];

beforeAll(async () => {
  stack = await startStack(
    testConfig({
      auth: {
        clients: [
          { name: 'busy', token_sha256: tokenSha256(tokens.busy), ids: ['*'], actions: ['get', 'create'] },
          { name: 'calm', token_sha256: tokenSha256(tokens.calm), ids: ['*'], actions: ['get', 'create'] },
        ],
      },
      rate_limit: { requests_per_minute: 8, creates_per_minute: 3 },
    }),
    'grpc-rate-limits',
  );
});

afterAll(async () => {
  for (const client of clients) client.close();
  await stack.close();
});

const as = (client: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[client]}` });

/** A replica of its own (its own counters), with a gRPC client. */
async function replica(
  overrides: Partial<Config> = {},
): Promise<{ rkms: RunningService; grpc: RkmsGrpcClient }> {
  const rkms = await stack.startService({ ...GRPC, ...overrides });
  const grpc = new RkmsGrpcClient(await listenGrpc(rkms.service));
  clients.push(grpc);
  return { rkms, grpc };
}

describe('rate limits over gRPC', () => {
  it('answer RESOURCE_EXHAUSTED TooManyRequests with RetryInfo past creates_per_minute; nothing is created, reads go on', async () => {
    const { rkms, grpc } = await replica({ rate_limit: { requests_per_minute: 100, creates_per_minute: 3 } });
    const events: SecurityEvent[] = [];
    rkms.service.security.events.subscribe((event) => events.push(event));
    for (let i = 0; i < 3; i++) expect((await grpc.getKey(`grpc-new-${i}`, as('calm'))).codeName).toBe('OK');
    const refusedGet = await grpc.getKey('grpc-new-3', as('calm'));
    const refusedCreate = await grpc.createKey('grpc-new-4', as('calm'));
    for (const refused of [refusedGet, refusedCreate]) {
      expect(refused).toMatchObject({
        code: Code.RESOURCE_EXHAUSTED,
        errorType: 'TooManyRequests',
        details: expect.stringMatching(
          /^over the limit of 3 new keys per minute; retry after \d+ s$/,
        ) as string,
        message: undefined,
      });
      const [retryAfter] = refused.trailers.get('retry-after');
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
      expect(refused.status).toMatchObject({
        code: Code.RESOURCE_EXHAUSTED,
        errorInfo: { reason: 'TooManyRequests', domain: 'rkms' },
        retryDelaySeconds: Number(retryAfter),
      });
    }
    expect(await stack.table.item('grpc-new-3')).toBeUndefined();
    expect(await stack.table.item('grpc-new-4')).toBeUndefined();
    // Existing keys are still served; another client has its own budget.
    expect((await grpc.getKey('grpc-new-0', as('calm'))).codeName).toBe('OK');
    expect((await grpc.getKey('grpc-new-5', as('busy'))).codeName).toBe('OK');
    expect(events).toContainEqual({ type: 'rate_limited', client: 'calm', limit: 'creates' });
  });

  it('share one budget per client with HTTP: calls over either transport spend it', async () => {
    const { rkms, grpc } = await replica();
    const viaHttp = (id: string) =>
      call(rkms.url, 'GET', `/key?id=${encodeURIComponent(id)}`, { headers: as('busy') });
    // requests_per_minute = 8: four over each transport, then neither.
    for (let i = 0; i < 4; i++) {
      expect((await viaHttp('shared-budget')).status).toBe(200);
      expect((await grpc.getKey('shared-budget', as('busy'))).codeName).toBe('OK');
    }
    expect((await grpc.getKey('shared-budget', as('busy'))).codeName).toBe('RESOURCE_EXHAUSTED');
    const refused = await viaHttp('shared-budget');
    expect(refused.status).toBe(429);
    expect(refused.body.error_message).toMatch(/^over the limit of 8 requests per minute/);
    // creates_per_minute = 3, shared too.
    const { rkms: other, grpc: otherGrpc } = await replica();
    for (const id of ['made-1', 'made-2']) {
      expect((await call(other.url, 'POST', `/key?id=${id}`, { headers: as('calm') })).status).toBe(201);
    }
    expect((await otherGrpc.createKey('made-3', as('calm'))).codeName).toBe('OK');
    expect((await otherGrpc.createKey('made-4', as('calm'))).codeName).toBe('RESOURCE_EXHAUSTED');
    expect((await call(other.url, 'POST', '/key?id=made-5', { headers: as('calm') })).status).toBe(429);
  });

  it('count anonymous callers per address, over both transports', async () => {
    const { rkms, grpc } = await replica({
      auth: { allow_anonymous: false, clients: [] },
      rate_limit: { requests_per_minute: 3, creates_per_minute: 100 },
    });
    expect((await call(rkms.url, 'GET', '/key?id=anon')).status).toBe(200);
    expect((await grpc.getKey('anon')).codeName).toBe('OK');
    expect((await grpc.getKey('anon')).codeName).toBe('OK');
    const refused = await grpc.getKey('anon');
    expect(refused).toMatchObject({ code: Code.RESOURCE_EXHAUSTED, errorType: 'TooManyRequests' });
    expect((await call(rkms.url, 'GET', '/key?id=anon')).status).toBe(429);
  });

  it('refuse unknown callers per address before they are told they are unknown, as HTTP does', async () => {
    const { grpc } = await replica({ rate_limit: { requests_per_minute: 2, creates_per_minute: 3 } });
    const stranger = { authorization: `Bearer ${newToken()}` };
    expect((await grpc.getKey('x', stranger)).codeName).toBe('UNAUTHENTICATED');
    expect((await grpc.getKey('x', stranger)).codeName).toBe('UNAUTHENTICATED');
    expect((await grpc.getKey('x', stranger)).codeName).toBe('RESOURCE_EXHAUSTED');
    // A declared client is counted by its name, not by the address it shares with the stranger.
    expect((await grpc.getKey('x', as('calm'))).codeName).toBe('OK');
  });
});

describe('refusals over gRPC in the metrics', () => {
  it('count in rkms_auth_denials_total and rkms_rate_limited_total, as HTTP’s do', async () => {
    const { rkms, grpc } = await replica({ rate_limit: { requests_per_minute: 2, creates_per_minute: 3 } });
    expect((await grpc.getKey('metrics/a')).codeName).toBe('UNAUTHENTICATED');
    expect((await grpc.getKey('metrics/a', as('busy'))).codeName).toBe('OK');
    expect((await grpc.getKey('metrics/a', as('busy'))).codeName).toBe('OK');
    expect((await grpc.getKey('metrics/a', as('busy'))).codeName).toBe('RESOURCE_EXHAUSTED');
    const metrics = await (await fetch(`${rkms.url}/metrics`)).text();
    expect(metrics).toMatch(/^rkms_auth_denials_total\{kind="unauthenticated",client="unknown"\} 1$/m);
    expect(metrics).toMatch(/^rkms_rate_limited_total\{limit="requests",client="busy"\} 1$/m);
  });
});
