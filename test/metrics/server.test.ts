import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostPolicyFor } from '../../src/shared/hosts.js';
import { serverLimitsOf } from '../../src/http/security/index.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server.js';
import { auditedLogger } from '../support/audit.js';
import { testConfig } from '../support/config.js';

const HEADERS_TIMEOUT_MS = 500;
const config = testConfig({
  server: { headers_timeout_ms: HEADERS_TIMEOUT_MS, receive_timeout_ms: 1_000 },
});
let server: MetricsServer;
let port: number;

beforeAll(async () => {
  const metrics = new Metrics();
  metrics.watch({ regions: () => [], storeCircuit: () => 'closed', cacheSize: () => 0 });
  server = await startMetricsServer({
    metrics,
    host: '127.0.0.1',
    port: 0,
    limits: serverLimitsOf(config.server),
    hostPolicy: hostPolicyFor('127.0.0.1', undefined),
    logger: auditedLogger('metrics-port'),
  });
  port = Number(new URL(server.url).port);
});

afterAll(async () => {
  await server.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends raw bytes, then waits (up to 20 s) for the server to close the connection. */
function exchange(bytes: string, to = port): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(to, '127.0.0.1');
    let text = '';
    let started = 0;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the metrics port held the connection for 20 s; it sent: ${text}`));
    }, 20_000);
    socket.on('connect', () => {
      started = Date.now();
      socket.write(bytes);
    });
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
  });
}

const bodyOf = (text: string) =>
  JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;

describe('the metrics port', () => {
  it('serves GET /metrics with a request id, the caller’s when it sends one', async () => {
    const scrape = await get('/metrics', { 'x-request-id': 'scrape-1' });
    expect(scrape.status).toBe(200);
    expect(scrape.headers['content-type']).toMatch(/^text\/plain/);
    expect(scrape.text).toContain('# TYPE rkms_http_requests_total counter');
    expect(scrape.headers['x-request-id']).toBe('scrape-1');
    expect((await get('/metrics')).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers everything else with RKMS’s error body and its request id', async () => {
    const cases: [Answer, number, string][] = [
      [await get('/key?id=x'), 404, 'NotFound'],
      [await get('/metrics', {}, 'POST'), 405, 'MethodNotAllowed'],
    ];
    for (const [answer, status, type] of cases) {
      expect(answer.status).toBe(status);
      expect(JSON.parse(answer.text)).toEqual({
        error_type: type,
        error_message: 'this port serves GET /metrics only',
        request_id: answer.headers['x-request-id'],
      });
    }
  });

  it('on loopback, answers loopback names only (DNS rebinding)', async () => {
    for (const host of ['localhost', `127.0.0.1:${port}`, '[::1]']) {
      expect((await get('/metrics', { host })).status, host).toBe(200);
    }
    for (const host of ['evil.example', `evil.example:${port}`, '10.0.0.5']) {
      const refused = await get('/metrics', { host });
      expect(refused.status, host).toBe(421);
      expect(JSON.parse(refused.text)).toMatchObject({ error_type: 'HostNotAllowed' });
      expect(refused.text).not.toContain('rkms_');
    }
  });

  it('cuts a connection that sends nothing, or stalls in its headers, at headers_timeout_ms, with the error body', async () => {
    for (const bytes of ['', 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ']) {
      const { text, closedAfterMs } = await exchange(bytes);
      expect(closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      // Node's check period (at most a second) and room for a busy machine; Node's own default is 60 s.
      expect(closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 5_000);
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(bodyOf(text)).toMatchObject({
        error_type: 'RequestTimeout',
        request_id: expect.any(String) as string,
      });
    }
  });

  it('answers a request that is not HTTP with the error body, not Node’s empty 400', async () => {
    const { text } = await exchange('NOT HTTP\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(Object.keys(bodyOf(text)).sort()).toEqual(['error_message', 'error_type', 'request_id']);
  });

  it('drops connections beyond max_connections', async () => {
    // Its own server, with the default timeouts: the held connection must outlive the check.
    const limited = await startMetricsServer({
      metrics: new Metrics(),
      host: '127.0.0.1',
      port: 0,
      limits: serverLimitsOf(testConfig({ server: { max_connections: 1 } }).server),
      hostPolicy: undefined,
      logger: auditedLogger('metrics-port-limited'),
    });
    const limitedPort = Number(new URL(limited.url).port);
    const held = connect(limitedPort, '127.0.0.1');
    try {
      await new Promise((resolve) => held.once('connect', resolve));
      const { text } = await exchange('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', limitedPort);
      expect(text).toBe('');
    } finally {
      held.destroy();
      await limited.close();
    }
  });
});
