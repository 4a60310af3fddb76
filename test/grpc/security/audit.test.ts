import { status as Code } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditTrail, auditTrailText, startAuditedStack, type AuditLine } from '../../support/audit-trail.js';
import { GRPC, HealthClient, listenGrpc, RkmsGrpcClient, type Outcome } from '../../support/grpc.js';
import { call } from '../../support/http.js';
import type { RunningService, Stack } from '../../support/stack.js';

let token: string;
let readerToken: string;
let stack: Stack;
let rkms: RunningService;
let grpc: RkmsGrpcClient;

beforeAll(async () => {
  ({ stack, token, readerToken } = await startAuditedStack('grpc-audit'));
  rkms = await stack.startService(GRPC);
  grpc = new RkmsGrpcClient(await listenGrpc(rkms.service));
});

afterAll(async () => {
  grpc.close();
  await stack.close();
});

const as = (who: string) => ({ authorization: `Bearer ${who}` });

const trail = (service = rkms): Promise<AuditLine[]> => auditTrail(service);

function requestIdOf(outcome: Outcome<unknown>): string {
  const [id] = outcome.trailers.get('x-request-id');
  return String(id);
}

async function lineOf(outcome: Outcome<unknown>, service = rkms): Promise<AuditLine | undefined> {
  const id = requestIdOf(outcome);
  const lines = (await trail(service)).filter((line) => line.request_id === id);
  expect(lines, `audit lines of call ${id}`).toHaveLength(1);
  return lines[0];
}

describe('the audit trail of gRPC calls', () => {
  it('has one line per call, in HTTP’s format and field order, then the transport and the gRPC status', async () => {
    const created = await grpc.getKey('audit/a', as(token));
    const line = await lineOf(created);
    expect(line).toEqual({
      type: 'audit',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as string,
      request_id: requestIdOf(created),
      client: 'app',
      auth: 'token',
      remote_address: '127.0.0.1',
      action: 'get',
      id: 'audit/a',
      outcome: 'created',
      region: 'us-east-1',
      status: 200,
      transport: 'grpc',
      grpc_status: 'OK',
    });
    const viaHttp = await call(rkms.url, 'GET', '/key?id=audit%2Fa', { headers: as(token) });
    const httpLine = (await trail()).find((l) => l.request_id === viaHttp.headers.get('x-request-id'));
    // HTTP's lines are unchanged: no transport field. gRPC's add theirs at the end.
    expect(httpLine).not.toHaveProperty('transport');
    expect(Object.keys(line ?? {})).toEqual([...Object.keys(httpLine ?? {}), 'transport', 'grpc_status']);
  });

  it('records every outcome HTTP records, with the status HTTP answers it with', async () => {
    const steps: [() => Promise<Outcome<unknown>>, Partial<AuditLine>][] = [
      [() => grpc.getKey('audit/a', as(token)), { outcome: 'served', region: 'cache', status: 200 }],
      [
        () => grpc.createKey('audit/b', as(token)),
        { action: 'create', outcome: 'created', region: 'us-east-1', status: 201 },
      ],
      [() => grpc.getKey('audit/b', as(readerToken)), { client: 'reader', outcome: 'served' }],
      [() => grpc.deleteKey('audit/b', as(token)), { action: 'delete', outcome: 'deleted', status: 200 }],
      [
        () => grpc.getKey('audit/b', as(token)),
        {
          outcome: 'pending_deletion',
          status: 409,
          error_type: 'KeyPendingDeletion',
          grpc_status: 'FAILED_PRECONDITION',
        },
      ],
      [() => grpc.restoreKey('audit/b', as(token)), { action: 'restore', outcome: 'restored', status: 200 }],
      [
        () => grpc.deleteKey('audit/ghost', as(token)),
        { outcome: 'not_found', status: 404, error_type: 'KeyNotFound', grpc_status: 'NOT_FOUND' },
      ],
      [() => grpc.getKey('audit/new', as(readerToken)), { client: 'reader', outcome: 'not_found' }],
      [
        () => grpc.getKey('audit/a'),
        {
          client: null,
          auth: 'none',
          id: 'audit/a',
          outcome: 'denied',
          status: 401,
          error_type: 'Unauthorized',
          reason: expect.stringContaining('requires authentication') as string,
          grpc_status: 'UNAUTHENTICATED',
        },
      ],
      [
        () => grpc.deleteKey('audit/a', as(readerToken)),
        {
          outcome: 'denied',
          status: 403,
          reason: 'client reader may not delete keys: its actions are ["get"]',
          grpc_status: 'PERMISSION_DENIED',
        },
      ],
      [
        () => grpc.createKey('audit/a', as(token)),
        { outcome: 'failed', status: 409, error_type: 'KeyExists', grpc_status: 'ALREADY_EXISTS' },
      ],
      [
        () => grpc.getKey('', as(token)),
        { outcome: 'failed', status: 400, error_type: 'BadRequest', grpc_status: 'INVALID_ARGUMENT' },
      ],
    ];
    for (const [step, expected] of steps) expect(await lineOf(await step())).toMatchObject(expected);
    // A failure's line has no reason (only refusals say why), and an empty id is no id.
    const badRequest = await lineOf(await grpc.getKey('', as(token)));
    expect(badRequest).not.toHaveProperty('id');
    expect(badRequest).not.toHaveProperty('reason');
    // No key material and no token in any line: the log audit checks the whole run; this file at least.
    const text = await auditTrailText(rkms);
    const { message } = await grpc.getKey('audit/a', as(token));
    expect(text).not.toContain(String((message as { key: string } | undefined)?.key));
    expect(text).not.toContain(token);
  });

  it('says which region served a key, and failed when no region could', async () => {
    const other = await stack.startService({ ...GRPC, cache: { ttl_seconds: 0, max_entries: 10 } });
    const client = new RkmsGrpcClient(await listenGrpc(other.service));
    try {
      const first = await client.getKey('audit/regions', as(token));
      stack.kms.faults.set('us-east-1', { error: {} });
      const second = await client.getKey('audit/regions', as(token));
      expect(second.message).toEqual(first.message);
      expect(await lineOf(second, other)).toMatchObject({ outcome: 'served', region: 'us-east-2' });
      stack.kms.faults.set('us-east-2', { error: {} });
      stack.kms.faults.set('us-west-1', { error: {} });
      const failed = await client.getKey('audit/regions', as(token));
      expect(failed.code).toBe(Code.UNAVAILABLE);
      expect(await lineOf(failed, other)).toMatchObject({
        outcome: 'failed',
        status: 503,
        error_type: 'KmsUnavailable',
        grpc_status: 'UNAVAILABLE',
      });
    } finally {
      stack.kms.faults.clear();
      client.close();
    }
  });

  it('misses no line under concurrent calls over both transports, and writes each once', async () => {
    const calls = Array.from({ length: 300 }, (_, i) => {
      const id = `audit/load-${i % 40}`;
      if (i % 10 === 7) return grpc.deleteKey(id, as(token));
      if (i % 10 === 8) return grpc.restoreKey(id, as(token));
      if (i % 10 === 9) return grpc.getKey(id);
      return grpc.getKey(id, as(i % 3 === 0 ? readerToken : token));
    });
    const httpCalls = Array.from({ length: 60 }, (_, i) =>
      call(rkms.url, 'GET', `/key?id=audit%2Fload-${i % 40}`, { headers: as(token) }),
    );
    const [outcomes, replies] = await Promise.all([Promise.all(calls), Promise.all(httpCalls)]);
    const lines = await trail();
    const byRequest = new Map<string, AuditLine[]>();
    for (const line of lines)
      byRequest.set(line.request_id, [...(byRequest.get(line.request_id) ?? []), line]);
    for (const outcome of outcomes) {
      const mine = byRequest.get(requestIdOf(outcome)) ?? [];
      expect(mine).toHaveLength(1);
      expect(mine[0]?.grpc_status).toBe(outcome.codeName);
    }
    for (const reply of replies) {
      expect(byRequest.get(reply.headers.get('x-request-id') ?? '')).toHaveLength(1);
    }
    expect(new Set(lines.map((line) => line.request_id)).size).toBe(lines.length);
  });
});

describe('an audit destination that cannot be written', () => {
  it('hands out no key over gRPC, and refuses every call until it can be written', async () => {
    // Every write to /dev/full fails (ENOSPC): a disk that filled up while RKMS runs.
    const full = await stack.startService({ ...GRPC, audit: { path: '/dev/full' } });
    const address = await listenGrpc(full.service);
    const client = new RkmsGrpcClient(address);
    const health = new HealthClient(address);
    const events: string[] = [];
    full.service.security.events.subscribe((event) => events.push(event.type));
    try {
      expect((await grpc.getKey('audit/existing', as(token))).codeName).toBe('OK');

      const outcomes = [
        await client.getKey('audit/existing', as(token)),
        await client.getKey('audit/existing', as(token)),
        await client.createKey('audit/never', as(token)),
        await client.deleteKey('audit/existing', as(token)),
        await client.getKey('audit/existing'),
      ];
      for (const outcome of outcomes) {
        expect(outcome).toMatchObject({
          code: Code.UNAVAILABLE,
          errorType: 'AuditUnavailable',
          details: 'the audit trail cannot be written, so no key operation is answered; retry later',
          message: undefined,
        });
        expect(outcome.trailers.get('retry-after')).toEqual(['5']);
        expect(outcome.status).toMatchObject({
          retryDelaySeconds: 5,
          errorInfo: { reason: 'AuditUnavailable', domain: 'rkms' },
          requestId: requestIdOf(outcome),
        });
      }
      // Once the trail failed, nothing changes until it works again: no key made, none deleted.
      expect(await stack.table.item('audit/never')).toBeUndefined();
      expect(await stack.table.item('audit/existing')).toMatchObject({ state: 'Enabled' });
      expect(events).toContain('audit_failed');
      // The service keeps answering what needs no audit line.
      expect((await health.check('')).message).toEqual({ status: 'SERVING' });
    } finally {
      client.close();
      health.close();
    }
  });
});
