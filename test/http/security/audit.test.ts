import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditTrail, auditTrailText, startAuditedStack } from '../../support/audit-trail.js';
import { call, deleteKey, restoreKey, type Reply } from '../../support/http.js';
import type { RunningService, Stack } from '../../support/stack.js';

let token: string;
let readerToken: string;
let stack: Stack;
let rkms: RunningService;

beforeAll(async () => {
  ({ stack, token, readerToken } = await startAuditedStack('http-audit'));
  rkms = await stack.startService();
});

afterAll(async () => {
  await stack.close();
});

const as = (who: string) => ({ headers: { authorization: `Bearer ${who}` } });
const keyCall = (method: string, path: string, id: string, who = token) =>
  call(rkms.url, method, `${path}?id=${encodeURIComponent(id)}`, as(who));

const trail = (service = rkms) => auditTrail(service);

async function lineOf(reply: Reply, service = rkms) {
  const id = reply.headers.get('x-request-id');
  const lines = (await trail(service)).filter((line) => line.request_id === id);
  expect(lines, `audit lines of request ${id}`).toHaveLength(1);
  return lines[0];
}

describe('the audit trail', () => {
  it('has one line per key operation, for every outcome, with who, what, where from and the answer', async () => {
    const created = await keyCall('GET', '/key', 'audit/a');
    expect(await lineOf(created)).toEqual({
      type: 'audit',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as string,
      request_id: created.headers.get('x-request-id'),
      client: 'app',
      auth: 'token',
      remote_address: '127.0.0.1',
      action: 'get',
      id: 'audit/a',
      outcome: 'created',
      region: 'us-east-1',
      status: 200,
    });
    expect(await lineOf(await keyCall('GET', '/key', 'audit/a'))).toMatchObject({
      outcome: 'served',
      region: 'cache',
    });
    expect(await lineOf(await keyCall('POST', '/key', 'audit/b'))).toMatchObject({
      action: 'create',
      outcome: 'created',
      status: 201,
      region: 'us-east-1',
    });
    expect(await lineOf(await keyCall('GET', '/key', 'audit/b', readerToken))).toMatchObject({
      client: 'reader',
      outcome: 'served',
    });
    expect(await lineOf(await keyCall('DELETE', '/key', 'audit/b'))).toMatchObject({
      action: 'delete',
      outcome: 'deleted',
      status: 200,
    });
    expect(await lineOf(await keyCall('GET', '/key', 'audit/b'))).toMatchObject({
      outcome: 'pending_deletion',
      status: 409,
      error_type: 'KeyPendingDeletion',
    });
    expect(await lineOf(await keyCall('POST', '/key/restore', 'audit/b'))).toMatchObject({
      action: 'restore',
      outcome: 'restored',
    });
    expect(await lineOf(await keyCall('DELETE', '/key', 'audit/ghost'))).toMatchObject({
      outcome: 'not_found',
      status: 404,
      error_type: 'KeyNotFound',
    });
    expect(await lineOf(await keyCall('GET', '/key', 'audit/new', readerToken))).toMatchObject({
      client: 'reader',
      outcome: 'not_found',
    });
    expect(await lineOf(await call(rkms.url, 'GET', '/key?id=audit%2Fa'))).toEqual(
      expect.objectContaining({
        client: null,
        auth: 'none',
        id: 'audit/a',
        outcome: 'denied',
        status: 401,
        error_type: 'Unauthorized',
        reason: expect.stringContaining('requires authentication') as string,
      }),
    );
    expect(await lineOf(await keyCall('DELETE', '/key', 'audit/a', readerToken))).toMatchObject({
      outcome: 'denied',
      status: 403,
      reason: 'client reader may not delete keys: its actions are ["get"]',
    });
    expect(await lineOf(await keyCall('POST', '/key', 'audit/a'))).toMatchObject({
      outcome: 'failed',
      status: 409,
      error_type: 'KeyExists',
    });
    expect(await lineOf(await call(rkms.url, 'GET', '/key', as(token)))).toMatchObject({
      outcome: 'failed',
      status: 400,
      error_type: 'BadRequest',
    });
    // No key material in any line: the log audit checks the whole run; this file at least.
    const text = await auditTrailText(rkms);
    expect(text).not.toContain(String(created.body.key));
    expect(text).not.toContain(token);
  });

  it('says which region served a key, and failed when no region could', async () => {
    const other = await stack.startService({ cache: { ttl_seconds: 0, max_entries: 10 } });
    const first = await call(other.url, 'GET', '/key?id=audit%2Fregions', as(token));
    stack.kms.faults.set('us-east-1', { error: {} });
    try {
      const second = await call(other.url, 'GET', '/key?id=audit%2Fregions', as(token));
      expect(second.body.key).toBe(first.body.key);
      expect(await lineOf(second, other)).toMatchObject({ outcome: 'served', region: 'us-east-2' });
      stack.kms.faults.set('us-east-2', { error: {} });
      stack.kms.faults.set('us-west-1', { error: {} });
      const failed = await call(other.url, 'GET', '/key?id=audit%2Fregions', as(token));
      expect(failed.status).toBe(503);
      expect(await lineOf(failed, other)).toMatchObject({ outcome: 'failed', error_type: 'KmsUnavailable' });
    } finally {
      stack.kms.faults.clear();
    }
  });

  it('misses no line under concurrent load, and writes each once', async () => {
    const replies = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const id = `audit/load-${i % 40}`;
        if (i % 10 === 7) return keyCall('DELETE', '/key', id);
        if (i % 10 === 8) return keyCall('POST', '/key/restore', id);
        return keyCall('GET', '/key', id, i % 3 === 0 ? readerToken : token);
      }),
    );
    const lines = await trail();
    const byRequest = new Map<string, number>();
    for (const line of lines) byRequest.set(line.request_id, (byRequest.get(line.request_id) ?? 0) + 1);
    for (const reply of replies) expect(byRequest.get(reply.headers.get('x-request-id') ?? '')).toBe(1);
    expect(new Set(lines.map((line) => line.request_id)).size).toBe(lines.length);
  });
});

describe('an audit destination that cannot be written', () => {
  it('stops RKMS at start when the file cannot be opened', async () => {
    await expect(stack.startService({ audit: { path: '/nonexistent-dir/rkms/audit.log' } })).rejects.toThrow(
      /audit\.path: cannot open \/nonexistent-dir\/rkms\/audit\.log for appending: ENOENT/,
    );
  });

  it('hands out no key, and refuses every operation until it can be written', async () => {
    // Every write to /dev/full fails (ENOSPC): a disk that filled up while RKMS runs.
    const full = await stack.startService({ audit: { path: '/dev/full' } });
    const events: string[] = [];
    full.service.security.events.subscribe((event) => events.push(event.type));
    const existing = await keyCall('GET', '/key', 'audit/existing');
    expect(existing.status).toBe(200);

    const replies = [
      await call(full.url, 'GET', '/key?id=audit%2Fexisting', as(token)),
      await call(full.url, 'GET', '/key?id=audit%2Fexisting', as(token)),
      await call(full.url, 'POST', '/key?id=audit%2Fnever', as(token)),
      await call(full.url, 'DELETE', '/key?id=audit%2Fexisting', as(token)),
      await call(full.url, 'GET', '/key?id=audit%2Fexisting'),
    ];
    for (const reply of replies) {
      expect(reply.status).toBe(503);
      expect(reply.body).toEqual({
        error_type: 'AuditUnavailable',
        error_message: 'the audit trail cannot be written, so no key operation is answered; retry later',
        request_id: reply.headers.get('x-request-id'),
      });
      expect(reply.headers.get('retry-after')).toBe('5');
    }
    // Once the trail failed, nothing changes until it works again: no key made, none deleted.
    expect(await stack.table.item('audit/never')).toBeUndefined();
    expect(await stack.table.item('audit/existing')).toMatchObject({ state: 'Enabled' });
    expect(events).toContain('audit_failed');
    // The service keeps answering what needs no audit line.
    expect((await call(full.url, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('restore and anonymous lines', () => {
  it('record a restore that found the key enabled, and refusals of callers without a token', async () => {
    await keyCall('GET', '/key', 'audit/c');
    expect(await lineOf(await keyCall('POST', '/key/restore', 'audit/c'))).toMatchObject({
      outcome: 'restored',
      status: 200,
    });
    for (const reply of [await deleteKey(rkms.url, 'audit/c'), await restoreKey(rkms.url, 'audit/c')]) {
      expect(await lineOf(reply)).toMatchObject({ client: null, outcome: 'denied', status: 401 });
    }
  });
});
