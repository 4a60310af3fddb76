import { readFile } from 'node:fs/promises';
import { connect as connectHttp2, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../support/config.js';
import { listenGrpc, RkmsGrpcClient } from '../support/grpc.js';
import { startStack, type RunningService, type Stack } from '../support/stack.js';

const HEADERS_TIMEOUT_MS = 500;
const RECEIVE_TIMEOUT_MS = 1_000;
const KEEP_ALIVE_TIMEOUT_MS = 1_500;
/** Each bound, plus Node's and grpc-js's timer granularity and room for a busy machine. */
const SLACK_MS = 5_000;

const GRPC = { port: 0, shutdown_timeout_ms: 5_000, max_concurrent_streams: 7 };
let stack: Stack;
let rkms: RunningService;
let address: string;
let port: number;

beforeAll(async () => {
  stack = await startStack(
    testConfig({
      kms: { hedge_after_ms: 0 },
      server: {
        headers_timeout_ms: HEADERS_TIMEOUT_MS,
        receive_timeout_ms: RECEIVE_TIMEOUT_MS,
        keep_alive_timeout_ms: KEEP_ALIVE_TIMEOUT_MS,
      },
      grpc: GRPC,
    }),
    'grpc-transport',
  );
  rkms = await stack.startService({ grpc: stack.config.grpc });
  address = await listenGrpc(rkms.service);
  port = Number(address.split(':').pop());
});

afterAll(async () => {
  await stack.close();
});

/** Opens a TCP connection, sends `bytes`, and resolves with how long the server took to close it (20 s at most). */
function closedAfter(bytes: Buffer | string, to = port): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(to, '127.0.0.1');
    let started = 0;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error('the gRPC port held the connection for 20 s'));
    }, 20_000);
    socket.on('connect', () => {
      started = Date.now();
      socket.write(bytes);
    });
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve(Date.now() - started);
    });
  });
}

/** An HTTP/2 session to the gRPC port, as a raw client (no gRPC library to fill in what is missing). */
async function http2Session(): Promise<ClientHttp2Session> {
  const session = connectHttp2(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  await new Promise((resolve) => session.once('remoteSettings', resolve));
  return session;
}

/** Resolves (within 20 s) when the session closes, with how long it stayed open from `since`. */
function sessionClosed(session: ClientHttp2Session, since: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const giveUp = setTimeout(() => {
      session.destroy();
      reject(new Error('the gRPC port held the HTTP/2 session for 20 s'));
    }, 20_000);
    session.once('close', () => {
      clearTimeout(giveUp);
      resolve(Date.now() - since);
    });
  });
}

async function trail(): Promise<Record<string, unknown>[]> {
  const text = await readFile(rkms.service.security.audit.destination, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
/** An empty SETTINGS frame: length 0, type 4, no flags, stream 0. */
const SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

describe('a gRPC connection that never begins', () => {
  it.each([
    ['sends nothing', Buffer.alloc(0)],
    ['sends only the HTTP/2 preface', Buffer.concat([Buffer.from(PREFACE), SETTINGS])],
    ['sends HTTP/1.1', Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')],
  ])('is closed at headers_timeout_ms when it %s', async (_what, bytes) => {
    const after = await closedAfter(bytes);
    // HTTP/1.1 is no HTTP/2 preface: grpc-js may refuse it at once.
    if (bytes.length === 0 || bytes.toString().startsWith('PRI')) {
      expect(after).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
    }
    expect(after).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  });

  it('is closed at headers_timeout_ms when an HTTP/2 client settles in but makes no call', async () => {
    const opened = Date.now();
    const session = await http2Session();
    const openFor = await sessionClosed(session, opened);
    expect(openFor).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
    expect(openFor).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  });
});

describe('a gRPC call whose request never arrives', () => {
  it.each([
    ['nothing after its headers', Buffer.alloc(0)],
    // A message prefix announcing 100 bytes, and 2 of them.
    ['part of its message', Buffer.from([0, 0, 0, 0, 100, 0x0a, 0x62])],
  ])(
    'ends DEADLINE_EXCEEDED RequestTimeout at receive_timeout_ms when it sends %s; its audit line says so; the connection then goes idle and closes',
    async (what, body) => {
      const requestId = `grpc-stalled-${body.length}`;
      const session = await http2Session();
      const started = Date.now();
      const stream = session.request(
        {
          ':method': 'POST',
          ':path': '/rkms.v1.Rkms/GetKey',
          'content-type': 'application/grpc',
          te: 'trailers',
          'x-request-id': requestId,
        },
        { endStream: false },
      );
      stream.on('error', () => undefined);
      if (body.length > 0) stream.write(body);
      const headers = await new Promise<IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
      const answeredAfter = Date.now() - started;
      // A trailers-only answer: the status is in the headers.
      expect(headers['grpc-status'], what).toBe('4');
      expect(headers['rkms-error-type']).toBe('RequestTimeout');
      expect(decodeURIComponent(String(headers['grpc-message']))).toBe(
        `the request message did not arrive within server.receive_timeout_ms (${RECEIVE_TIMEOUT_MS} ms) of the call's headers`,
      );
      expect(headers['x-request-id']).toBe(requestId);
      expect(answeredAfter).toBeGreaterThanOrEqual(RECEIVE_TIMEOUT_MS - 100);
      expect(answeredAfter).toBeLessThan(RECEIVE_TIMEOUT_MS + SLACK_MS);
      // The stream is reset though the client never ended its side...
      await new Promise((resolve) => stream.once('close', resolve));
      // ...so the connection has no call left, and closes once idle for keep_alive_timeout_ms.
      const idleFor = await sessionClosed(session, Date.now());
      expect(idleFor).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + SLACK_MS);

      const lines = (await trail()).filter((line) => line.request_id === requestId);
      expect(lines).toEqual([
        expect.objectContaining({
          client: 'anonymous',
          action: 'get',
          outcome: 'failed',
          status: 408,
          error_type: 'RequestTimeout',
          transport: 'grpc',
          grpc_status: 'DEADLINE_EXCEEDED',
        }),
      ]);
    },
  );
});

describe('gRPC connections in use', () => {
  it('stay open between calls while busy, and a client carries on over a new one once an idle one closed', async () => {
    const client = new RkmsGrpcClient(address);
    try {
      expect((await client.getKey('transport/1')).codeName).toBe('OK');
      // Past headers_timeout_ms: a connection that has made a call is not cut as a silent one.
      await new Promise((resolve) => setTimeout(resolve, HEADERS_TIMEOUT_MS * 2));
      expect((await client.getKey('transport/1')).codeName).toBe('OK');
      // Past keep_alive_timeout_ms: the idle connection was closed (GOAWAY); the client reconnects.
      await new Promise((resolve) => setTimeout(resolve, KEEP_ALIVE_TIMEOUT_MS * 2));
      expect((await client.getKey('transport/1')).codeName).toBe('OK');
    } finally {
      client.close();
    }
  });

  it('are told [grpc] max_concurrent_streams in the server’s SETTINGS', async () => {
    const session = await http2Session();
    try {
      expect(session.remoteSettings.maxConcurrentStreams).toBe(GRPC.max_concurrent_streams);
    } finally {
      session.destroy();
    }
  });

  it('are asked to go (GOAWAY) after [grpc] max_connection_age_ms', async () => {
    const aged = await stack.startService({ grpc: { ...GRPC, max_connection_age_ms: 1_000 } });
    const agedAddress = await listenGrpc(aged.service);
    const session = connectHttp2(`http://${agedAddress}`);
    session.on('error', () => undefined);
    try {
      const opened = Date.now();
      // A call, so that the connection is not cut as a silent one first.
      const stream = session.request({
        ':method': 'POST',
        ':path': '/grpc.health.v1.Health/Check',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('error', () => undefined);
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
      stream.resume();
      await new Promise((resolve) => session.once('goaway', resolve));
      // The age has a jitter of 10 %.
      expect(Date.now() - opened).toBeGreaterThanOrEqual(800);
    } finally {
      session.destroy();
    }
  });

  it('beyond [server] max_connections are dropped', async () => {
    const small = await stack.startService({
      grpc: GRPC,
      server: {
        ...stack.config.server,
        max_connections: 1,
        headers_timeout_ms: 5_000,
        receive_timeout_ms: 10_000,
      },
    });
    const smallPort = Number((await listenGrpc(small.service)).split(':').pop());
    const held: Socket = connect(smallPort, '127.0.0.1');
    try {
      await new Promise((resolve) => held.once('connect', resolve));
      // Dropped at once, long before the first-call timeout of 5 s.
      expect(await closedAfter(Buffer.concat([Buffer.from(PREFACE), SETTINGS]), smallPort)).toBeLessThan(
        4_000,
      );
    } finally {
      held.destroy();
    }
  });
});
