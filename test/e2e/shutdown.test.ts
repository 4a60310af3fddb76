import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAllClis, runCli } from '../support/cli.js';
import { recordKey } from '../support/audit.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rkms-shutdown-'));
});
afterAll(async () => {
  killAllClis();
  await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  sentAt: number;
  /** Whether the request went out on a connection that had carried an earlier one (kept alive). */
  reused: boolean;
  status?: number;
  /** The answer's Connection header. */
  connection?: string | undefined;
  error?: string;
}

/** A GET over a kept-alive connection, resolving with its status or its error code. */
function get(agent: http.Agent, url: string): Promise<Outcome> {
  const sentAt = performance.now();
  return new Promise((resolve) => {
    const request = http.get(url, { agent }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        const key = (JSON.parse(body || '{}') as { key?: unknown }).key;
        if (typeof key === 'string') recordKey(key);
        resolve({
          sentAt,
          reused: request.reusedSocket,
          status: response.statusCode ?? 0,
          connection: response.headers.connection,
        });
      });
      response.on('error', (err: NodeJS.ErrnoException) => {
        resolve({ sentAt, reused: request.reusedSocket, error: err.code ?? err.message });
      });
    });
    request.on('error', (err: NodeJS.ErrnoException) => {
      resolve({ sentAt, reused: request.reusedSocket, error: err.code ?? err.message });
    });
  });
}

/** When the server was first seen draining (`/readyz` 503 on a connection of its own); Infinity if never. */
async function drainingSeen(url: string): Promise<number> {
  for (;;) {
    const seenAt = performance.now();
    const status = await new Promise<number | undefined>((resolve) => {
      http
        .get(`${url}/readyz`, { agent: false }, (response) => {
          response.resume();
          resolve(response.statusCode);
        })
        .on('error', () => {
          resolve(undefined);
        });
    });
    if (status === 503) return seenAt;
    if (status === undefined) return Infinity; // no longer accepting
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A kept-alive connection that has had one answer and is idle. `send` writes GETs for
 * `ids` on it, back to back (pipelined), and resolves with the statuses it gets back.
 */
async function idleConnection(url: string): Promise<{ send(ids: string[]): Promise<number[]> }> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let received = '';
  let onData = () => undefined as unknown;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString();
    for (const key of received.matchAll(/"key":"([^"]+)"/g)) if (key[1]) recordKey(key[1]);
    onData();
  });
  // A response's status line follows the previous body directly, on the same line.
  const statuses = () => [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  const request = (ids: string[]) =>
    ids.map((id) => `GET /key?id=${id} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`).join('');
  const answers = (count: number) =>
    new Promise<number[]>((resolve) => {
      onData = () => {
        if (statuses().length >= count) resolve(statuses());
      };
      socket.once('close', () => {
        resolve(statuses());
      });
      onData();
    });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(request(['warm-up']));
  await answers(1);
  return {
    send(ids) {
      const done = answers(1 + ids.length);
      socket.write(request(ids));
      return done.then((all) => {
        socket.destroy();
        return all.slice(1);
      });
    },
  };
}

it('answers every request sent before SIGTERM, mid-burst over kept-alive connections, and exits 0', async () => {
  const config = path.join(dir, 'config.toml');
  await writeFile(
    config,
    `
[server]
port = 0
shutdown_timeout_ms = 5000
[logger]
level = "warn"
[cache]
ttl_seconds = 0
[kms]
regions = ["us-east-1", "us-east-2", "us-west-1"]
[dynamodb]
region = "us-east-1"
[embedded]
kms = true
dynamodb = true
data_dir = "${path.join(dir, 'data')}"
`,
  );
  const server = runCli(['serve', '--config', config]);
  const [, url = ''] = await server.waitFor(/RKMS listening on (http:\/\/\S+)/);
  const [, kms = ''] = await server.waitFor(/local KMS at (http:\/\/\S+) /);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const ids = Array.from({ length: 20 }, (_, i) => `drain-${i}`);
  for (const id of ids) await get(agent, `${url}/key?id=${id}`);
  // Every read takes a while (no cache, a slow KMS), so many are in flight at the signal.
  for (const region of ['us-east-1', 'us-east-2', 'us-west-1']) {
    const slow = await fetch(`${kms}/admin/faults/${region}`, {
      method: 'PUT',
      body: JSON.stringify({ latency: { ms: 150 } }),
    });
    expect(slow.status).toBe(200);
  }

  const outcomes: Outcome[] = [];
  let signalledAt = Infinity;
  let stopped = false;
  const workers = Array.from({ length: 16 }, async (_, w) => {
    for (let n = w; !stopped; n += 16) {
      const outcome = await get(agent, `${url}/key?id=${ids[n % ids.length] ?? ''}`);
      outcomes.push(outcome);
      // Once the server is gone, stop asking.
      if (outcome.error === 'ECONNREFUSED') stopped = true;
    }
  });
  // A burst well under way (a busy machine answers fewer a second: wait for the count, not a time).
  for (const started = performance.now(); outcomes.length < 100;) {
    expect(performance.now() - started, 'answers before the signal').toBeLessThan(60_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Requests written on idle kept-alive connections in the same instant as the signal
  // (one GET on some, five pipelined on others): the server may not have read them yet.
  const idle = await Promise.all(Array.from({ length: 16 }, () => idleConnection(url)));
  const lastMoment = idle.map((connection, c) => connection.send(ids.slice(c, c + (c % 2 ? 5 : 1))));
  signalledAt = performance.now();
  server.child.kill('SIGTERM');
  const draining = drainingSeen(url);
  const queued = (await Promise.all(lastMoment)).flat();
  expect(queued).toHaveLength(8 * 5 + 8);
  expect(queued.filter((status) => status !== 200)).toEqual([]);
  const code = await server.exited;
  stopped = true;
  await Promise.all(workers);
  agent.destroy();

  const beforeSignal = outcomes.filter((o) => o.sentAt < signalledAt);
  expect(beforeSignal.length).toBeGreaterThanOrEqual(100);
  expect(beforeSignal.filter((o) => o.status !== 200)).toEqual([]);
  // Requests sent after the signal are answered or refused; none gets a 5xx.
  expect(outcomes.filter((o) => (o.status ?? 0) >= 500)).toEqual([]);
  // A draining server answers with Connection: close, so clients stop reusing its
  // connections before it closes them: no request on a kept-alive connection is reset.
  const drainingAt = await draining;
  expect(drainingAt).toBeLessThan(Infinity);
  const whileDraining = outcomes.filter((o) => o.sentAt > drainingAt && o.status !== undefined);
  expect(whileDraining.length).toBeGreaterThan(0);
  expect(whileDraining.filter((o) => o.connection !== 'close')).toEqual([]);
  expect(outcomes.filter((o) => o.reused && o.error !== undefined)).toEqual([]);
  expect(code).toBe(0);
});
