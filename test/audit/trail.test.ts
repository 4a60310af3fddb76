import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditUnavailableError } from '../../src/audit/errors.js';
import { LineOutput } from '../../src/config/line-output.js';
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

  it('writes stdout lines through one writer, and fails writes that cannot land instead of ending the process', async () => {
    const file = path.join(dir, 'stdout.log');
    const fd = openSync(file, 'w');
    const sink = new StdoutSink(new LineOutput(fd));
    await Promise.all([sink.write('one\n'), sink.write('two\n')]);
    // Confirmed means written: the bytes are in the file when the promise resolves.
    expect(await readFile(file, 'utf8')).toBe('one\ntwo\n');
    closeSync(fd);
    // /dev/full fails every write (ENOSPC), as a full disk or a closed pipe would.
    const full = openSync('/dev/full', 'w');
    const failing = new StdoutSink(new LineOutput(full));
    await expect(failing.write('three\n')).rejects.toThrow(/ENOSPC/);
    await expect(failing.write('four\n')).rejects.toThrow(/ENOSPC/);
    await failing.close();
    closeSync(full);
  });

  it('on stdout, writes the lines of one turn in that turn and tells every caller in it', async () => {
    const file = path.join(dir, 'turn.log');
    const fd = openSync(file, 'w');
    const trail = new AuditTrail(new StdoutSink(new LineOutput(fd)), logger);
    const told: string[] = [];
    for (let i = 0; i < 20; i++)
      trail.write(record(String(i)), (err) => told.push(err ? 'failed' : String(i)));
    // One turn later (the output's setImmediate), every answer may leave: none waits for
    // a batch of the trail's own behind the first.
    await new Promise((resolve) => setImmediate(resolve));
    expect(told).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(20);
    closeSync(fd);
  });

  it('with a sink that gathers lines itself, refuses while it fails and recovers with the next line that lands', async () => {
    const lines: string[] = [];
    let broken = true;
    const sink: AuditSink = {
      description: 'gathering',
      write: () => Promise.reject(new Error('the trail uses append with this sink')),
      append: (line, written) => {
        setImmediate(() => {
          if (broken) {
            written(new Error('EPIPE: broken pipe'));
            return;
          }
          lines.push(line);
          written();
        });
      },
      reopen: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const trail = new AuditTrail(sink, logger);
    await expect(trail.record(record('lost'))).rejects.toThrow(AuditUnavailableError);
    expect(trail.healthy).toBe(false);
    broken = false;
    await trail.record(record('kept'));
    expect(trail.healthy).toBe(true);
    expect(lines.map((line) => (JSON.parse(line) as AuditRecord).id)).toEqual(['kept']);
  });

  it('withholds the answers of a write that hangs, and refuses until it settles', async () => {
    let finish: () => void = () => undefined;
    let writes = 0;
    const hanging: AuditSink = {
      description: 'hanging once',
      write: () => (writes++ === 0 ? new Promise<void>((resolve) => (finish = resolve)) : Promise.resolve()),
      reopen: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const trail = new AuditTrail(hanging, logger, 50);
    await expect(trail.record(record('slow'))).rejects.toThrow(AuditUnavailableError);
    expect(trail.healthy).toBe(false);
    // While the first write hangs nothing else is written, so nothing queues behind it.
    await expect(trail.record(record('next'))).rejects.toThrow(AuditUnavailableError);
    expect(writes).toBe(1);
    finish();
    // Once it settles, the next line is the probe that finds the trail back.
    await vi.waitFor(async () => {
      await trail.record(record('probe'));
    });
    expect(trail.healthy).toBe(true);
  });

  it('refuses a destination that is not a file: a FIFO could hold every write', async () => {
    const fifo = path.join(dir, 'audit.fifo');
    execFileSync('mkfifo', [fifo]);
    // Nobody reads it: opening must fail at once rather than wait for a reader.
    await expect(FileSink.open(fifo)).rejects.toThrow(/ENXIO/);
    await expect(FileSink.open(dir)).rejects.toThrow(/EISDIR|not a regular file/);
  });

  it('refuses a file it cannot open', async () => {
    await expect(FileSink.open(path.join(dir, 'missing', 'audit.log'))).rejects.toThrow(/ENOENT/);
  });
});
