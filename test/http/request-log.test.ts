import Fastify from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { completionLine, installRequestLog } from '../../src/http/request-log.js';
import type { RkmsInstance } from '../../src/http/instance.js';
import { Metrics } from '../../src/metrics/metrics.js';

/** A pino destination that keeps what it is given. */
function captured() {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the completion line', () => {
  it('is byte for byte what pino writes for the same fields, escapes included', () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-03T10:00:00.000Z') });
    const out = captured();
    const logger = pino({ level: 'info' }, out);
    const bindings = (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
    for (const url of ['/key?id=tenant-42', '/key?id="quoted"\\', '/key?id=%E2%82%AC', '/key?id=\u0001']) {
      for (const ms of [0.3, 12, 1234.5]) {
        const request = { id: `req-${url.length}`, method: 'GET', url };
        logger.info({ requestId: request.id, method: 'GET', url, status: 200, ms }, 'request completed');
        expect(completionLine(bindings, request, 200, ms)).toBe(out.lines.at(-1));
      }
    }
  });

  it('is written once per request on the service logger destination, and not below info', async () => {
    for (const level of ['info', 'warn'] as const) {
      const out = captured();
      const logger = pino({ level }, out);
      const app = Fastify({ logger: false }) as unknown as RkmsInstance;
      installRequestLog(app, logger, new Metrics());
      app.get('/key', () => ({ ok: true }));
      await app.ready();
      await app.inject({ url: '/key?id=a' });
      await app.inject({ url: '/nowhere' });
      const lines = out.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      if (level === 'warn') {
        expect(lines).toEqual([]);
      } else {
        expect(lines).toMatchObject([
          { level: 30, pid: process.pid, url: '/key?id=a', status: 200, msg: 'request completed' },
          { level: 30, url: '/nowhere', status: 404, msg: 'request completed' },
        ]);
      }
      await app.close();
    }
  });
});
