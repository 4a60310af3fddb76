import { mkdtemp, readFile, rm, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/record.js';
import { FileSink, StdoutSink, type AuditSink } from '../../src/audit/sinks.js';
import { AuditTrail } from '../../src/audit/trail.js';
import { auditedLogger } from '../support/audit.js';

const logger = auditedLogger('audit-trail');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rkms-audit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const record = (id: string): AuditRecord => ({
  time: new Date(0).toISOString(),
  request_id: `r-${id}`,
  client: 'app',
  auth: 'token',
  remote_address: '127.0.0.1',
  action: 'get',
  id,
  outcome: 'served',
  region: 'us-east-1',
  status: 200,
});

/** A sink that fails while `broken` is set. */
class FlakySink implements AuditSink {
  readonly description = 'flaky';
  broken = false;
  writes: string[] = [];
  write(data: string): Promise<void> {
    if (this.broken) return Promise.reject(new Error('ENOSPC: no space left on device'));
    this.writes.push(data);
    return Promise.resolve();
  }
  reopen = () => Promise.resolve();
  close = () => Promise.resolve();
}

describe('AuditTrail', () => {
  it('appends one JSON line per record to the file, and opens it again by its path after rotation', async () => {
    const file = path.join(dir, 'audit.log');
    const trail = await AuditTrail.open(file, logger);
    await trail.record(record('a'));
    await rename(file, `${file}.1`);
    await trail.record(record('b'));
    await trail.reopen();
    await trail.record(record('c'));
    await trail.close();
    expect((await readFile(`${file}.1`, 'utf8')).split('\n')).toEqual([
      JSON.stringify({ type: 'audit', ...record('a') }),
      JSON.stringify({ type: 'audit', ...record('b') }),
      '',
    ]);
    expect(await readFile(file, 'utf8')).toBe(`${JSON.stringify({ type: 'audit', ...record('c') })}\n`);
  });

  it('writes a burst in few writes, in order, and resolves each record once it is written', async () => {
    const sink = new FlakySink();
    const trail = new AuditTrail(sink, logger);
    await Promise.all(Array.from({ length: 50 }, (_, i) => trail.record(record(String(i)))));
    expect(sink.writes.length).toBeLessThan(50);
    const ids = sink.writes
      .join('')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as AuditRecord).id);
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  });

  it('rejects while the sink fails, says it is unhealthy, and recovers with the next write that works', async () => {
    const sink = new FlakySink();
    const trail = new AuditTrail(sink, logger);
    expect(trail.healthy).toBe(true);
    sink.broken = true;
    await expect(trail.record(record('x'))).rejects.toThrow(/audit trail cannot be written/);
    expect(trail.healthy).toBe(false);
    sink.broken = false;
    await trail.record(record('y'));
    expect(trail.healthy).toBe(true);
  });

  it('fails writes to a closed stdout instead of ending the process', async () => {
    const out = new PassThrough();
    const sink = new StdoutSink(out);
    await sink.write('one\n');
    expect(String(out.read())).toBe('one\n');
    const closed = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const failing = new StdoutSink(closed);
    await expect(failing.write('two\n')).rejects.toThrow(/EPIPE/);
    await expect(failing.write('three\n')).rejects.toThrow(/EPIPE/);
    await failing.close();
  });

  it('refuses a file it cannot open', async () => {
    await expect(FileSink.open(path.join(dir, 'missing', 'audit.log'))).rejects.toThrow(/ENOENT/);
  });
});
