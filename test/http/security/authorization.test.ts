import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../../src/auth/events.js';
import { auditTrailText } from '../../support/audit-trail.js';
import { call, type Reply } from '../../support/http.js';
import {
  credentialsOf,
  scrub,
  startMatrixStack,
  tokens,
  type Caller,
  type IdClass,
} from '../../support/matrix-callers.js';
import type { RunningService, Stack } from '../../support/stack.js';

/**
 * The authorization matrix of issue #7: every client (and no client, an unknown token, a
 * header that is no bearer token) × ids inside and outside its patterns × every action, on
 * ids that have a key and ids that do not. Each cell's status is written out below, not
 * computed by the rules under test. The callers are test/support/matrix-callers.ts's.
 */
// GET, POST, DELETE, POST restore: each on an id with a key, then on one without.
type Row = [
  getHas: number,
  getNew: number,
  postHas: number,
  postNew: number,
  delHas: number,
  delNew: number,
  restoreHas: number,
  restoreNew: number,
];

const ALL_403: Row = [403, 403, 403, 403, 403, 403, 403, 403];
const ALL_401: Row = [401, 401, 401, 401, 401, 401, 401, 401];
// A GET of a new id creates its key and answers 200, as it always did.
const EVERYTHING: Row = [200, 200, 409, 201, 200, 404, 200, 404];

const MATRIX: Record<Exclude<Caller, 'admin'>, Record<IdClass, Row>> = {
  billing: { 'billing/': EVERYTHING, 'shared/': EVERYTHING, 'other/': ALL_403 },
  // May read, not create: a GET of an id without a key is a 404 (it may read that id, so it learns nothing new).
  reader: { 'billing/': [200, 404, 403, 403, 403, 403, 403, 403], 'shared/': ALL_403, 'other/': ALL_403 },
  creator: { 'billing/': [403, 403, 409, 201, 403, 403, 403, 403], 'shared/': ALL_403, 'other/': ALL_403 },
  operator: {
    'billing/': [403, 403, 403, 403, 200, 404, 200, 404],
    'shared/': [403, 403, 403, 403, 200, 404, 200, 404],
    'other/': [403, 403, 403, 403, 200, 404, 200, 404],
  },
  none: { 'billing/': ALL_401, 'shared/': ALL_401, 'other/': ALL_401 },
  'unknown token': { 'billing/': ALL_401, 'shared/': ALL_401, 'other/': ALL_401 },
  'not bearer': { 'billing/': ALL_401, 'shared/': ALL_401, 'other/': ALL_401 },
};

const ACTIONS = [
  ['GET', '/key'],
  ['POST', '/key'],
  ['DELETE', '/key'],
  ['POST', '/key/restore'],
] as const;

let stack: Stack;
let rkms: RunningService;
const events: SecurityEvent[] = [];
let cell = 0;

beforeAll(async () => {
  stack = await startMatrixStack('http-authorization');
  rkms = await stack.startService();
  rkms.service.security.events.subscribe((event) => events.push(event));
});

afterAll(async () => {
  await stack.close();
});

const keyCall = (caller: Caller, method: string, path: string, id: string) =>
  call(rkms.url, method, `${path}?id=${encodeURIComponent(id)}`, { headers: credentialsOf(caller) });

/** A fresh id of the class, with a key (made by admin) or without one. */
async function freshId(idClass: IdClass, withKey: boolean): Promise<string> {
  const id = `${idClass}cell-${cell++}`;
  if (withKey) expect((await keyCall('admin', 'POST', '/key', id)).status).toBe(201);
  return id;
}

describe('the authorization matrix', () => {
  const cases = Object.entries(MATRIX).flatMap(([caller, byClass]) =>
    Object.entries(byClass).map(([idClass, row]) => [caller as Caller, idClass as IdClass, row] as const),
  );

  it.each(cases)('%s on %s ids', async (caller, idClass, row) => {
    const replies: Reply[] = [];
    for (const [index, [method, path]] of ACTIONS.entries()) {
      for (const withKey of [true, false]) {
        const id = await freshId(idClass, withKey);
        const reply = await keyCall(caller, method, path, id);
        const expected = row[index * 2 + (withKey ? 0 : 1)];
        expect(
          reply.status,
          `${caller}: ${method} ${path} of ${withKey ? 'an id with a key' : 'a new id'} ${id}`,
        ).toBe(expected);
        if (reply.status >= 400) expect(reply.body).not.toHaveProperty('key');
        replies.push(reply);
      }
    }
    for (const reply of replies.filter((r) => r.status === 401)) {
      expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer realm="rkms"/);
      expect(reply.body.error_type).toBe('Unauthorized');
    }
    // A refusal reads the same for an id with a key and one without: it tells nothing about existence.
    for (let i = 0; i < replies.length; i += 2) {
      const [has, none] = [replies[i], replies[i + 1]];
      if (has?.status === 403 || has?.status === 401) {
        expect(none?.status).toBe(has.status);
        expect({ ...none?.body, request_id: '', error_message: scrub(none?.body.error_message) }).toEqual({
          ...has.body,
          request_id: '',
          error_message: scrub(has.body.error_message),
        });
      }
    }
  });
});

describe('refusals', () => {
  it('name the rule that refused: the action, or the id patterns', async () => {
    const action = await keyCall('reader', 'DELETE', '/key', 'billing/x');
    expect(action.body).toMatchObject({
      error_type: 'Forbidden',
      error_message: 'client reader may not delete keys: its actions are ["get"]',
    });
    const id = await keyCall('reader', 'GET', '/key', 'other/x');
    expect(id.body.error_message).toBe(
      'client reader may not use the id "other/x": its ids are ["billing/*"]',
    );
    const create = await keyCall('reader', 'GET', '/key', 'billing/never-created');
    expect(create.body).toMatchObject({
      error_type: 'KeyNotFound',
      error_message:
        'no key exists for id "billing/never-created", and client reader may not create one (it lacks the create action)',
    });
  });

  it('happen before any store read or KMS call', async () => {
    stack.kms.resetCounters();
    await stack.dynalite.close().catch(() => undefined);
    try {
      for (const caller of ['none', 'unknown token', 'reader'] as const) {
        const reply = await keyCall(caller, 'DELETE', '/key', 'billing/any');
        // With the store down, anything that read it would answer 503.
        expect(reply.status).toBe(caller === 'reader' ? 403 : 401);
      }
    } finally {
      expect(stack.kms.counters()).toEqual({});
    }
  });

  it('leave the health endpoints open', async () => {
    expect((await call(rkms.url, 'GET', '/healthz')).status).toBe(200);
    expect([200, 503]).toContain((await call(rkms.url, 'GET', '/readyz')).status);
  });

  it('are told to subscribers (the metrics), naming the client, never a token or an address', () => {
    expect(events).toContainEqual({ type: 'unauthenticated', problem: 'missing' });
    expect(events).toContainEqual({ type: 'unauthenticated', problem: 'unknown' });
    expect(events).toContainEqual({ type: 'unauthenticated', problem: 'malformed' });
    expect(events).toContainEqual({ type: 'forbidden', client: 'reader', action: 'delete' });
    const text = JSON.stringify(events);
    for (const token of Object.values(tokens)) expect(text).not.toContain(token);
    expect(text).not.toContain('127.0.0.1');
  });

  it('each leave one audit line, with the client, the action, the id and the rule', async () => {
    const text = await auditTrailText(rkms);
    const lines = text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const refused = lines.filter((line) => line.id === 'other/x' && line.client === 'reader');
    expect(refused).toEqual([
      expect.objectContaining({
        type: 'audit',
        action: 'get',
        auth: 'token',
        outcome: 'denied',
        status: 403,
        error_type: 'Forbidden',
        reason: 'client reader may not use the id "other/x": its ids are ["billing/*"]',
      }),
    ]);
    expect(lines.filter((line) => line.client === null && line.status === 401).length).toBeGreaterThanOrEqual(
      72,
    );
    for (const token of Object.values(tokens)) expect(text).not.toContain(token);
  });
});
