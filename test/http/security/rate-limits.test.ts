import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../../src/auth/events.js';
import { newToken, tokenSha256 } from '../../../src/auth/token.js';
import { recordKey } from '../../support/audit.js';
import { testConfig } from '../../support/config.js';
import { call } from '../../support/http.js';
import { startStack, type Stack } from '../../support/stack.js';

const tokens = { busy: newToken(), calm: newToken(), bulk: newToken() };
let stack: Stack;

beforeAll(async () => {
  stack = await startStack(
    testConfig({
      auth: {
        clients: [
          { name: 'busy', token_sha256: tokenSha256(tokens.busy), ids: ['*'], actions: ['get', 'create'] },
          { name: 'calm', token_sha256: tokenSha256(tokens.calm), ids: ['*'], actions: ['get', 'create'] },
          // Its own limits win over [rate_limit]: 0 is none.
          {
            name: 'bulk',
            token_sha256: tokenSha256(tokens.bulk),
            ids: ['*'],
            actions: ['get', 'create'],
            requests_per_minute: 0,
            creates_per_minute: 0,
          },
        ],
      },
      rate_limit: { requests_per_minute: 8, creates_per_minute: 3 },
    }),
    'http-rate-limits',
  );
});

afterAll(async () => {
  await stack.close();
});

const as = (client: keyof typeof tokens) => ({ headers: { authorization: `Bearer ${tokens[client]}` } });

describe('rate limits', () => {
  it('answer 429 with Retry-After and the error body past a client’s requests per minute; other clients go on', async () => {
    const { url } = await stack.startService();
    const events: SecurityEvent[] = [];
    const service = await stack.startService();
    service.service.security.events.subscribe((event) => events.push(event));
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push((await call(service.url, 'GET', '/key?id=shared', as('busy'))).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
    const refused = await call(service.url, 'GET', '/key?id=shared', as('busy'));
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body).toEqual({
      error_type: 'TooManyRequests',
      error_message: expect.stringMatching(
        /^over the limit of 8 requests per minute; retry after \d+ s$/,
      ) as string,
      request_id: refused.headers.get('x-request-id'),
    });
    expect((await call(service.url, 'GET', '/key?id=shared', as('calm'))).status).toBe(200);
    // Each replica counts its own callers.
    expect((await call(url, 'GET', '/key?id=shared', as('busy'))).status).toBe(200);
    expect(events).toContainEqual({ type: 'rate_limited', client: 'busy', limit: 'requests' });
  });

  it('count new keys apart: a GET that would create one is refused past creates_per_minute, reads go on', async () => {
    const service = await stack.startService({
      rate_limit: { requests_per_minute: 100, creates_per_minute: 3 },
    });
    for (let i = 0; i < 3; i++)
      expect((await call(service.url, 'GET', `/key?id=new-${i}`, as('calm'))).status).toBe(200);
    const refusedGet = await call(service.url, 'GET', '/key?id=new-3', as('calm'));
    const refusedPost = await call(service.url, 'POST', '/key?id=new-4', as('calm'));
    for (const refused of [refusedGet, refusedPost]) {
      expect(refused.status).toBe(429);
      expect(refused.body.error_message).toMatch(/over the limit of 3 new keys per minute/);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    expect(await stack.table.item('new-3')).toBeUndefined();
    // Existing keys are still served, and a POST of an existing id costs nothing.
    expect((await call(service.url, 'GET', '/key?id=new-0', as('calm'))).status).toBe(200);
    expect((await call(service.url, 'POST', '/key?id=new-0', as('calm'))).status).toBe(409);
    // A client with creates_per_minute = 0 has no limit.
    for (let i = 0; i < 5; i++)
      expect((await call(service.url, 'GET', `/key?id=bulk-${i}`, as('bulk'))).status).toBe(200);
  });

  it('count anonymous callers per address', async () => {
    const anonymous = await stack.startService({
      auth: { allow_anonymous: false, clients: [] },
      rate_limit: { requests_per_minute: 3, creates_per_minute: 100 },
    });
    const from = (localAddress: string) =>
      new Promise<number>((resolve, reject) => {
        const { port } = new URL(anonymous.url);
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/key?id=anon',
            localAddress,
            headers: { host: `127.0.0.1:${port}` },
          },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => {
              const body = JSON.parse(text) as { key?: string };
              if (body.key) recordKey(body.key);
              resolve(res.statusCode ?? 0);
            });
          },
        );
        req.on('error', reject);
        req.end();
      });
    const first = [
      await from('127.0.0.1'),
      await from('127.0.0.1'),
      await from('127.0.0.1'),
      await from('127.0.0.1'),
    ];
    expect(first).toEqual([200, 200, 200, 429]);
    // Another address (all of 127.0.0.0/8 is this machine) has its own count.
    expect(await from('127.0.0.2')).toBe(200);
  });
});
