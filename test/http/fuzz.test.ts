import { afterAll, beforeAll, expect, it } from 'vitest';
import { testConfig } from '../support/config.js';
import { call } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
let base: string;

beforeAll(async () => {
  stack = await startStack(testConfig({ cache: { ttl_seconds: 1 } }), 'http-fuzz');
  ({ url: base } = await stack.startService());
});

afterAll(async () => {
  await stack.close();
});

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function generator(seed: number) {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return { next, pick };
}

const SEED = 20261122;

it('never answers 500 to any request shape', async () => {
  const { next, pick } = generator(SEED);
  const methods = ['GET', 'DELETE', 'POST', 'PUT', 'PATCH', 'OPTIONS'];
  const paths = [
    '/key',
    '/api/v1/key',
    '/key/restore',
    '/api/v1/key/restore',
    '/',
    '/healthz',
    '/readyz',
    '/key/',
    '//key',
    '/api/v1/',
    '/key%2F',
  ];
  const pieces = [
    'id',
    'id=',
    '=',
    '&',
    '%',
    '%00',
    '%ZZ',
    '%E2%82',
    '%F0%9F%94%91',
    'a',
    '+',
    '%2B',
    '[]',
    'id[]=x',
    'id[a]=b',
    '__proto__',
    'constructor',
    ';',
    '#',
  ];
  const bodies = [undefined, '', '{}', '{"id":"x"}', 'not json', '\u0000', 'x'.repeat(20_000)];
  const contentTypes = [
    undefined,
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'bogus/type',
  ];

  const statuses = new Map<number, number>();
  for (let i = 0; i < 400; i++) {
    const query = Array.from({ length: Math.floor(next() * 5) }, () => pick(pieces)).join('');
    const method = pick(methods);
    const body = method === 'GET' ? undefined : pick(bodies);
    const contentType = pick(contentTypes);
    const path = `${pick(paths)}${next() < 0.8 ? `?${query}` : ''}`;
    const reply = await call(base, method, path, {
      ...(body !== undefined ? { body } : {}),
      headers: contentType ? { 'content-type': contentType } : {},
    });
    statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
    expect(reply.status, `${method} ${path} (${contentType}) → ${JSON.stringify(reply.body)}`).toBeLessThan(
      500,
    );
    if (reply.status >= 400) {
      expect(Object.keys(reply.body).sort()).toEqual(['error_message', 'error_type', 'request_id']);
      expect(reply.body.request_id).toBe(reply.headers.get('x-request-id'));
    }
  }
  // The generator reached both the success and the client-error paths.
  expect(statuses.get(200)).toBeGreaterThan(0);
  expect(statuses.get(400)).toBeGreaterThan(0);
});
