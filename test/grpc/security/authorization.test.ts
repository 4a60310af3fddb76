import { status as Code } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../../src/auth/events.js';
import { auditTrailText } from '../../support/audit-trail.js';
import { GRPC, listenGrpc, RkmsGrpcClient, type Outcome } from '../../support/grpc.js';
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
 * The authorization matrix of issue #7 over gRPC (issue #11): the HTTP matrix's clients,
 * id classes and actions, with each cell's gRPC status written out below. Every cell is
 * also asked over HTTP, on an id of the same shape, and must be refused (or not) with the
 * same error type and message. The callers are test/support/matrix-callers.ts's.
 */
type Status = 'OK' | 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | 'NOT_FOUND' | 'ALREADY_EXISTS';
// GetKey, CreateKey, DeleteKey, RestoreKey: each on an id with a key, then on one without.
type Row = [Status, Status, Status, Status, Status, Status, Status, Status];

const ALL_DENIED: Row = Array<Status>(8).fill('PERMISSION_DENIED') as Row;
const ALL_UNAUTHENTICATED: Row = Array<Status>(8).fill('UNAUTHENTICATED') as Row;
// A GetKey of a new id creates its key, as GET does.
const EVERYTHING: Row = ['OK', 'OK', 'ALREADY_EXISTS', 'OK', 'OK', 'NOT_FOUND', 'OK', 'NOT_FOUND'];

const MATRIX: Record<Exclude<Caller, 'admin'>, Record<IdClass, Row>> = {
  billing: { 'billing/': EVERYTHING, 'shared/': EVERYTHING, 'other/': ALL_DENIED },
  // May read, not create: a GetKey of an id without a key is NOT_FOUND, as HTTP's 404.
  reader: {
    'billing/': [
      'OK',
      'NOT_FOUND',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
    ],
    'shared/': ALL_DENIED,
    'other/': ALL_DENIED,
  },
  creator: {
    'billing/': [
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'ALREADY_EXISTS',
      'OK',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
    ],
    'shared/': ALL_DENIED,
    'other/': ALL_DENIED,
  },
  operator: {
    'billing/': [
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'OK',
      'NOT_FOUND',
      'OK',
      'NOT_FOUND',
    ],
    'shared/': [
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'OK',
      'NOT_FOUND',
      'OK',
      'NOT_FOUND',
    ],
    'other/': [
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
      'OK',
      'NOT_FOUND',
      'OK',
      'NOT_FOUND',
    ],
  },
  none: { 'billing/': ALL_UNAUTHENTICATED, 'shared/': ALL_UNAUTHENTICATED, 'other/': ALL_UNAUTHENTICATED },
  'unknown token': {
    'billing/': ALL_UNAUTHENTICATED,
    'shared/': ALL_UNAUTHENTICATED,
    'other/': ALL_UNAUTHENTICATED,
  },
  'not bearer': {
    'billing/': ALL_UNAUTHENTICATED,
    'shared/': ALL_UNAUTHENTICATED,
    'other/': ALL_UNAUTHENTICATED,
  },
};

const ACTIONS = [
  { rpc: 'GetKey', http: ['GET', '/key'] },
  { rpc: 'CreateKey', http: ['POST', '/key'] },
  { rpc: 'DeleteKey', http: ['DELETE', '/key'] },
  { rpc: 'RestoreKey', http: ['POST', '/key/restore'] },
] as const;

let stack: Stack;
let rkms: RunningService;
let grpc: RkmsGrpcClient;
const events: SecurityEvent[] = [];
let cell = 0;

beforeAll(async () => {
  stack = await startMatrixStack('grpc-authorization');
  rkms = await stack.startService(GRPC);
  grpc = new RkmsGrpcClient(await listenGrpc(rkms.service));
  rkms.service.security.events.subscribe((event) => events.push(event));
});

afterAll(async () => {
  grpc.close();
  await stack.close();
});

type Rpc = (typeof ACTIONS)[number]['rpc'];

function rpc(caller: Caller, method: Rpc, id: string): Promise<Outcome<unknown>> {
  const metadata = credentialsOf(caller);
  switch (method) {
    case 'GetKey':
      return grpc.getKey(id, metadata);
    case 'CreateKey':
      return grpc.createKey(id, metadata);
    case 'DeleteKey':
      return grpc.deleteKey(id, metadata);
    case 'RestoreKey':
      return grpc.restoreKey(id, metadata);
  }
}

const httpCall = (caller: Caller, method: string, path: string, id: string) =>
  call(rkms.url, method, `${path}?id=${encodeURIComponent(id)}`, { headers: credentialsOf(caller) });

/** A fresh id of the class, with a key (made by admin) or without one. */
async function freshId(idClass: IdClass, withKey: boolean): Promise<string> {
  const id = `${idClass}cell-${cell++}`;
  if (withKey) expect((await grpc.createKey(id, credentialsOf('admin'))).codeName).toBe('OK');
  return id;
}

/** What a refusal says, without what differs from call to call (the request id, the cell number). */
function refusalOf(outcome: Outcome<unknown>) {
  return {
    code: outcome.code,
    errorType: outcome.errorType,
    details: scrub(outcome.details),
    errorInfo: outcome.status?.errorInfo,
  };
}

describe('the authorization matrix over gRPC', () => {
  const cases = Object.entries(MATRIX).flatMap(([caller, byClass]) =>
    Object.entries(byClass).map(([idClass, row]) => [caller as Caller, idClass as IdClass, row] as const),
  );

  it.each(cases)('%s on %s ids', async (caller, idClass, row) => {
    const outcomes: Outcome<unknown>[] = [];
    for (const [index, { rpc: method, http }] of ACTIONS.entries()) {
      for (const withKey of [true, false]) {
        const expected = row[index * 2 + (withKey ? 0 : 1)];
        const id = await freshId(idClass, withKey);
        const outcome = await rpc(caller, method, id);
        const what = `${caller}: ${method} of ${withKey ? 'an id with a key' : 'a new id'} ${id}`;
        expect(outcome.codeName, what).toBe(expected);
        if (outcome.code !== Code.OK) expect(outcome.message, what).toBeUndefined();
        outcomes.push(outcome);

        // The same question over HTTP, on an id of the same shape: the same answer.
        const twin = await freshId(idClass, withKey);
        const reply: Reply = await httpCall(caller, http[0], http[1], twin);
        if (outcome.code === Code.OK) {
          expect(reply.status, `${what}, over HTTP`).toBeLessThan(300);
        } else {
          expect(reply.body.error_type, `${what}, over HTTP`).toBe(outcome.errorType);
          expect(scrub(reply.body.error_message), `${what}, over HTTP`).toBe(scrub(outcome.details));
        }
      }
    }
    for (const outcome of outcomes.filter((o) => o.code === Code.UNAUTHENTICATED)) {
      expect(outcome.errorType).toBe('Unauthorized');
      expect(outcome.status?.errorInfo).toEqual({ reason: 'Unauthorized', domain: 'rkms' });
    }
    for (const outcome of outcomes.filter((o) => o.code === Code.PERMISSION_DENIED)) {
      expect(outcome.errorType).toBe('Forbidden');
    }
    // A refusal reads the same for an id with a key and one without: it tells nothing about existence.
    for (let i = 0; i < outcomes.length; i += 2) {
      const [has, none] = [outcomes[i], outcomes[i + 1]];
      if (has?.code === Code.PERMISSION_DENIED || has?.code === Code.UNAUTHENTICATED) {
        expect(none && refusalOf(none)).toEqual(refusalOf(has));
      }
    }
  });
});

describe('refusals over gRPC', () => {
  it('name the rule that refused, as HTTP does', async () => {
    expect(await rpc('reader', 'DeleteKey', 'billing/x')).toMatchObject({
      code: Code.PERMISSION_DENIED,
      errorType: 'Forbidden',
      details: 'client reader may not delete keys: its actions are ["get"]',
    });
    expect((await rpc('reader', 'GetKey', 'other/x')).details).toBe(
      'client reader may not use the id "other/x": its ids are ["billing/*"]',
    );
    expect(await rpc('reader', 'GetKey', 'billing/never-created')).toMatchObject({
      code: Code.NOT_FOUND,
      errorType: 'KeyNotFound',
      details:
        'no key exists for id "billing/never-created", and client reader may not create one (it lacks the create action)',
    });
    expect(await rpc('none', 'GetKey', 'billing/x')).toMatchObject({
      code: Code.UNAUTHENTICATED,
      details:
        'this RKMS requires authentication: send Authorization: Bearer <token> (rkms token creates one)',
    });
    expect((await rpc('not bearer', 'GetKey', 'billing/x')).details).toBe(
      'the Authorization header is not a bearer token: send Authorization: Bearer <token>',
    );
  });

  it('leave a locked-out client no key: not of its own ids, not of others’', async () => {
    const id = 'billing/locked-out';
    const key = await grpc.getKey(id, credentialsOf('billing'));
    expect(key.codeName).toBe('OK');
    // A client whose token was removed from the config is a token RKMS does not know.
    for (const caller of ['unknown token', 'none', 'not bearer', 'creator', 'operator'] as const) {
      const http = await httpCall(caller, 'GET', '/key', id);
      expect(http.status, caller).toBeGreaterThanOrEqual(400);
      const outcome = await grpc.getKey(id, credentialsOf(caller));
      expect(outcome.message, caller).toBeUndefined();
      expect(JSON.stringify(outcome.trailers.toJSON()), caller).not.toContain(key.message?.key);
      expect(outcome.codeName, caller).toBe(
        caller === 'creator' || caller === 'operator' ? 'PERMISSION_DENIED' : 'UNAUTHENTICATED',
      );
    }
  });

  it('come before the request is read, as HTTP authenticates before it validates the query', async () => {
    // An invalid id without credentials: UNAUTHENTICATED, as HTTP's 401 for /key?id= without a token.
    expect((await rpc('unknown token', 'GetKey', '')).codeName).toBe('UNAUTHENTICATED');
    expect((await httpCall('unknown token', 'GET', '/key', '')).status).toBe(401);
    const notUtf8 = Buffer.from([0x0a, 0x02, 0xc3, 0x28]);
    expect((await grpc.raw('GetKey', notUtf8)).codeName).toBe('UNAUTHENTICATED');
    // With credentials, the id is checked before the client's rules: INVALID_ARGUMENT, as HTTP's 400.
    expect((await rpc('reader', 'GetKey', '')).codeName).toBe('INVALID_ARGUMENT');
    expect((await httpCall('reader', 'GET', '/key', '')).status).toBe(400);
    expect((await grpc.raw('GetKey', notUtf8, { authorization: `Bearer ${tokens.reader}` })).errorType).toBe(
      'BadRequest',
    );
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

  it('each leave one audit line, with the client, the action, the id, the rule and the transport', async () => {
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
        transport: 'grpc',
        grpc_status: 'PERMISSION_DENIED',
      }),
    ]);
    const unauthenticated = lines.filter((line) => line.transport === 'grpc' && line.status === 401);
    expect(unauthenticated.length).toBeGreaterThanOrEqual(72);
    for (const line of unauthenticated)
      expect(line).toMatchObject({ client: null, auth: 'none', outcome: 'denied' });
    for (const token of Object.values(tokens)) expect(text).not.toContain(token);
  });

  it('happen before any store read or KMS call', async () => {
    stack.kms.resetCounters();
    await stack.dynalite.close().catch(() => undefined);
    try {
      for (const caller of ['none', 'unknown token', 'reader'] as const) {
        // With the store down, anything that read it would answer UNAVAILABLE.
        expect((await rpc(caller, 'DeleteKey', 'billing/any')).codeName).toBe(
          caller === 'reader' ? 'PERMISSION_DENIED' : 'UNAUTHENTICATED',
        );
      }
    } finally {
      expect(stack.kms.counters()).toEqual({});
    }
  });
});
