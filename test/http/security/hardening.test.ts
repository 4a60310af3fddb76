import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_CREDENTIALS } from '../../../src/cli/embedded.js';
import { testConfig, TEST_REGIONS } from '../../support/config.js';
import { recordKey } from '../../support/audit.js';
import { getKey } from '../../support/http.js';
import { startStack, type RunningService, type Stack } from '../../support/stack.js';

let stack: Stack;
let rkms: RunningService;
let port: number;

const HEADERS_TIMEOUT_MS = 500;
const RECEIVE_TIMEOUT_MS = 1_000;

beforeAll(async () => {
  stack = await startStack(
    testConfig({
      cache: { ttl_seconds: 0 },
      kms: { hedge_after_ms: 0 },
      server: {
        headers_timeout_ms: HEADERS_TIMEOUT_MS,
        receive_timeout_ms: RECEIVE_TIMEOUT_MS,
        max_requests_per_socket: 3,
      },
    }),
    'http-hardening',
  );
  rkms = await stack.startService();
  port = Number(new URL(rkms.url).port);
});

afterAll(async () => {
  await stack.close();
});

interface Exchange {
  /** Everything the server sent. */
  text: string;
  /** Milliseconds from the first byte sent to the server closing the connection. */
  closedAfterMs: number;
}

/** Sends raw bytes, then waits (up to 20 s) for the server to close the connection. */
function exchange(bytes: string, to = port): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(to, '127.0.0.1');
    let text = '';
    let started = 0;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server held the connection for 20 s; it sent: ${text}`));
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

/** A GET with this Host header (fetch will not send one of its own choosing). */
function withHost(
  base: string,
  path: string,
  host: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers: { host }, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        if (typeof body.key === 'string') recordKey(body.key);
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The service's audit trail, one record per line. */
async function trail(): Promise<Record<string, unknown>[]> {
  const text = await readFile(rkms.service.security.audit.destination, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Polls (every 50 ms, for up to 10 s) until `probe` gives a value. */
async function waitFor<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('not seen within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function bodyOf(text: string): Record<string, unknown> {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
}

describe('timeouts', () => {
  it('cuts a request whose body stalls once receive_timeout_ms has passed, with a 408 error body', async () => {
    const { text, closedAfterMs } = await exchange(
      'POST /key?id=stalled HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nab',
    );
    expect(closedAfterMs).toBeGreaterThanOrEqual(RECEIVE_TIMEOUT_MS - 100);
    // The timeout plus Node's check period (at most a second) and room for a busy machine; the issue saw 180 s.
    expect(closedAfterMs).toBeLessThan(RECEIVE_TIMEOUT_MS + 5_000);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(text)).toMatchObject({ error_type: 'RequestTimeout' });
    expect(await stack.table.item('stalled')).toBeUndefined();
  });

  it('records a key request cut by receive_timeout_ms as the 408 it was answered with, under its request id', async () => {
    const { text } = await exchange(
      'POST /key?id=stalled-audited HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: stalled-audited-1\r\n' +
        'Content-Type: text/plain\r\nContent-Length: 100\r\n\r\nab',
    );
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toMatch(/\r\nX-Request-Id: stalled-audited-1\r\n/i);
    expect(bodyOf(text)).toMatchObject({ error_type: 'RequestTimeout', request_id: 'stalled-audited-1' });
    // The line is written as the aborted request ends, just after the 408 left.
    const lines = await waitFor(async () => {
      const found = (await trail()).filter((line) => line.id === 'stalled-audited');
      return found.length > 0 ? found : undefined;
    });
    expect(lines).toEqual([
      expect.objectContaining({
        request_id: 'stalled-audited-1',
        action: 'create',
        outcome: 'failed',
        status: 408,
        error_type: 'RequestTimeout',
      }),
    ]);
  });

  it('cuts headers that stall, and a connection that sends nothing, once headers_timeout_ms has passed', async () => {
    for (const bytes of ['GET /key?id=x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', '']) {
      const { text, closedAfterMs } = await exchange(bytes);
      expect(closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      expect(closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 5_000);
      expect(bodyOf(text)).toMatchObject({
        error_type: 'RequestTimeout',
        request_id: expect.any(String) as string,
      });
    }
  });

  it('ends a connection after max_requests_per_socket requests', async () => {
    const request = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const { text } = await exchange(request.repeat(4));
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]);
    // The third answer says Connection: close; the fourth request gets no work (and no answer, or a 503).
    expect(statuses.slice(0, 3)).toEqual(['200', '200', '200']);
    expect(statuses.length === 3 || statuses[3] === '503').toBe(true);
    expect(text.split('HTTP/1.1 200')[3]).toMatch(/connection: close/i);
  });

  it('drops connections beyond max_connections', async () => {
    const small = await stack.startService({ server: { ...stack.config.server, max_connections: 1 } });
    const held = connect(Number(new URL(small.url).port), '127.0.0.1');
    await new Promise((resolve) => held.once('connect', resolve));
    try {
      const { text } = await exchange(
        'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
        Number(new URL(small.url).port),
      );
      expect(text).toBe('');
    } finally {
      held.destroy();
    }
  });
});

describe('the Host header (DNS rebinding)', () => {
  it('on loopback, answers loopback names and addresses only', async () => {
    for (const host of [
      '127.0.0.1',
      `127.0.0.1:${port}`,
      'localhost',
      `localhost:${port}`,
      '[::1]:80',
      'app.localhost',
    ]) {
      const reply = await withHost(rkms.url, '/healthz', host);
      expect(reply.status, host).toBe(200);
    }
    for (const host of [
      'evil.example',
      `evil.example:${port}`,
      'rkms.internal',
      '10.0.0.5',
      '127.0.0.1.nip.io',
    ]) {
      for (const path of ['/key?id=rebound', '/healthz', '/readyz', '/nope']) {
        const reply = await withHost(rkms.url, path, host);
        expect(reply.status, `${host} ${path}`).toBe(421);
        expect(reply.body).toMatchObject({ error_type: 'HostNotAllowed' });
      }
    }
    expect(await stack.table.item('rebound')).toBeUndefined();
  });

  it('adds server.allowed_hosts, exact or *.domain', async () => {
    const named = await stack.startService({
      server: { ...stack.config.server, allowed_hosts: ['rkms.test', '*.rkms.internal'] },
    });
    for (const host of ['rkms.test', 'RKMS.test.', 'a.rkms.internal:8080', '127.0.0.1']) {
      expect((await withHost(named.url, '/healthz', host)).status, host).toBe(200);
    }
    for (const host of ['rkms.internal', 'evil.test', 'rkms.test.evil.test']) {
      expect((await withHost(named.url, '/healthz', host)).status, host).toBe(421);
    }
  });

  it('needs a Host header in HTTP/1.1, and answers its absence with the error body', async () => {
    const { text } = await exchange('GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(text)).toMatchObject({
      error_type: 'BadRequest',
      error_message: 'the Host header is required',
    });
  });
});

describe('error bodies', () => {
  it('have {error_type, error_message, request_id} for Node’s and Fastify’s client errors too', async () => {
    const cases: [string, number, string][] = [
      ['NOT HTTP\r\n\r\n', 400, 'BadRequest'],
      [
        `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'RequestHeaderFieldsTooLarge',
      ],
      [
        'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: teapot\r\nConnection: close\r\n\r\n',
        417,
        'ExpectationFailed',
      ],
      [
        'POST /key?id=j HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{x}',
        400,
        'BadRequest',
      ],
      [
        `POST /key?id=big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 20000\r\nConnection: close\r\n\r\n${'1'.repeat(20_000)}`,
        413,
        'PayloadTooLarge',
      ],
      ['GET /%%bad HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', 400, 'BadRequest'],
    ];
    for (const [bytes, status, type] of cases) {
      const { text } = await exchange(bytes);
      expect(text, bytes.slice(0, 40)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      const body = bodyOf(text);
      expect(Object.keys(body).sort()).toEqual(['error_message', 'error_type', 'request_id']);
      expect(body.error_type).toBe(type);
    }
  });

  it('name what is down, never an ARN, an account id or an endpoint; the log has those under the request id', async () => {
    await getKey(rkms.url, 'disabled-keys');
    const keyIds: [string, string][] = [];
    for (const region of TEST_REGIONS) {
      const kms = new KMSClient({ region, endpoint: stack.kms.url, credentials: EMBEDDED_CREDENTIALS });
      const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: `alias/rkms-${region}` }));
      keyIds.push([region, KeyMetadata?.KeyId ?? '']);
      await kms.send(new DisableKeyCommand({ KeyId: KeyMetadata?.KeyId }));
      kms.destroy();
    }
    let replies;
    try {
      replies = [await getKey(rkms.url, 'disabled-keys'), await getKey(rkms.url, 'disabled-new')];
    } finally {
      for (const [region, keyId] of keyIds) {
        const kms = new KMSClient({ region, endpoint: stack.kms.url, credentials: EMBEDDED_CREDENTIALS });
        await kms.send(new EnableKeyCommand({ KeyId: keyId }));
        kms.destroy();
      }
    }
    for (const reply of replies) {
      expect(reply.status).toBe(503);
      expect(reply.body.error_type).toBe('KmsUnavailable');
      expect(JSON.stringify(reply.body)).not.toMatch(/arn:|111122223333|127\.0\.0\.1|localhost|ECONN|http:/);
    }
    // The first names the refusal; by the second, the regions' circuits are open.
    expect(replies[0]?.body.error_message).toContain('us-east-1: Decrypt: key disabled (DisabledException)');
    expect(replies[1]?.body.error_message).toContain(
      'us-east-1: skipped: circuit open after its key is unusable',
    );
    // The details an operator needs are in the log, under the request id the body carries.
    const requestId = String(replies[0]?.body.request_id);
    const logged = (await readFile(stack.logFile, 'utf8'))
      .split('\n')
      .filter((line) => line.includes(`"requestId":"${requestId}"`));
    expect(logged.join('\n')).toMatch(/arn:aws:kms:us-east-1:111122223333:key\//);
  });

  it('say "the key store" when the store is down, with no endpoint', async () => {
    const down = await stack.startService({
      dynamodb: {
        ...stack.config.dynamodb,
        endpoint: 'http://127.0.0.1:9',
        timeout_ms: 500,
        max_attempts: 1,
      },
    });
    const reply = await getKey(down.url, 'store-down');
    expect(reply.status).toBe(503);
    expect(reply.body.error_message).toBe('the key store is unavailable: read: connection refused');
    expect(JSON.stringify(reply.body)).not.toMatch(/127\.0\.0\.1|:9\b|ECONNREFUSED|arn:/);
  });
});
