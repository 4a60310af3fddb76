import { afterEach, describe, expect, it, vi } from 'vitest';
import { auditLine, isoTimeNow, type AuditRecord } from '../../src/audit/record.js';

const base: AuditRecord = {
  time: '2026-12-03T09:24:24.146Z',
  request_id: '1cb41e29-a9a3-4bcc-a4c2-b3771304667e',
  client: 'billing',
  auth: 'token',
  remote_address: '127.0.0.1',
  action: 'get',
  id: 'tenant-42',
  outcome: 'served',
  region: 'cache',
  status: 200,
};

/** What the line was before it was written field by field: the marker, then JSON.stringify of the record. */
const byStringify = (record: AuditRecord) => `{"type":"audit",${JSON.stringify(record).slice(1)}\n`;

describe('auditLine', () => {
  it('writes exactly what JSON.stringify writes, for every field and every string that needs escaping', () => {
    const strange = [
      'plain',
      'quote " inside',
      'back\\slash',
      'new\nline\ttab\u0000nul\u001fus',
      'pair 😀 and lone \ud800 and \udfff',
      '',
      'ünïcödé',
    ];
    const records: AuditRecord[] = [
      base,
      { ...base, client: null, auth: 'none', id: undefined, region: undefined },
      {
        ...base,
        outcome: 'denied',
        status: 403,
        region: undefined,
        error_type: 'Forbidden',
        reason: 'client billing may not get "x"',
      },
      { ...base, transport: 'grpc', grpc_status: 'OK' },
      ...strange.map((s) => ({ ...base, id: s, request_id: s, client: s, remote_address: s, reason: s })),
    ];
    for (const record of records) {
      expect(auditLine(record)).toBe(byStringify(record));
      expect(JSON.parse(auditLine(record))).toEqual({ type: 'audit', ...JSON.parse(JSON.stringify(record)) });
    }
  });
});

describe('isoTimeNow', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is the current time in ISO 8601, new with every millisecond', () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-03T10:00:00.000Z') });
    expect(isoTimeNow()).toBe('2026-12-03T10:00:00.000Z');
    expect(isoTimeNow()).toBe('2026-12-03T10:00:00.000Z');
    vi.advanceTimersByTime(1);
    expect(isoTimeNow()).toBe('2026-12-03T10:00:00.001Z');
    vi.advanceTimersByTime(3_600_000);
    expect(isoTimeNow()).toBe('2026-12-03T11:00:00.001Z');
  });

  it('is what Date#toISOString writes, at every millisecond of a second and across seconds and days', () => {
    const start = Date.parse('2026-12-31T23:59:58.000Z');
    vi.useFakeTimers({ now: start });
    for (let ms = 0; ms < 3_000; ms += 1) {
      expect(isoTimeNow()).toBe(new Date(start + ms).toISOString());
      vi.advanceTimersByTime(1);
    }
    vi.setSystemTime(Date.parse('2026-12-03T10:00:05.007Z'));
    expect(isoTimeNow()).toBe('2026-12-03T10:00:05.007Z');
    // Back in time (a clock step): the cached second is not reused.
    vi.setSystemTime(Date.parse('2026-12-03T09:59:59.990Z'));
    expect(isoTimeNow()).toBe('2026-12-03T09:59:59.990Z');
  });
});
