/**
 * Benchmarks RKMS over HTTP with autocannon, on the embedded default (local KMS and
 * dynalite in the server's process). The server runs in a child process, so the load
 * generator does not share its event loop. Results go to stdout as a Markdown table;
 * bench/RESULTS.md keeps the ones we recorded, with the command that produced them.
 *
 *   npm run bench [-- --duration 10 --connections 32]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const ROOT = path.resolve(import.meta.dirname, '..');

interface Server {
  url: string;
  child: ChildProcess;
  rssMb(): Promise<number>;
  stop(): Promise<void>;
}

async function startServer(dir: string, cacheTtlSeconds: number): Promise<Server> {
  const config = path.join(dir, 'config.toml');
  await writeFile(
    config,
    `[server]\nport = 0\n[logger]\nlevel = "warn"\n[kms]\nregions = ["us-east-1", "us-east-2", "us-west-1"]\n` +
      `[dynamodb]\nregion = "us-east-1"\n[cache]\nttl_seconds = ${cacheTtlSeconds}\nmax_entries = 100000\n` +
      `[embedded]\nkms = true\ndynamodb = true\ndata_dir = "./data"\n` +
      // One load generator on one address: per-address rate limits would measure themselves.
      `[rate_limit]\nrequests_per_minute = 0\ncreates_per_minute = 0\n[audit]\npath = "./audit.log"\n`,
  );
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'serve', '--config', config],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /RKMS listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => {
      reject(new Error(`server exited with ${code}: ${out}`));
    });
  });
  return {
    url,
    child,
    async rssMb() {
      const { readFile } = await import('node:fs/promises');
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    },
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => {
          resolve();
        });
        child.kill('SIGINT');
      }),
  };
}

interface Row {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  rssMb: number;
}

async function load(server: Server, scenario: string, pathFor: () => string): Promise<Row> {
  const result = await autocannon({
    url: server.url,
    connections,
    duration,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: pathFor() }) }],
  });
  return {
    scenario,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    rssMb: Math.round(await server.rssMb()),
  };
}

async function warm(server: Server, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map((id) => fetch(`${server.url}/key?id=${id}`).then((r) => r.arrayBuffer())),
    );
  }
}

const dir = await mkdtemp(path.join(tmpdir(), 'rkms-bench-'));
const rows: Row[] = [];
const hot = Array.from({ length: 1000 }, (_, i) => `hot-${i}`);
let n = 0;
try {
  const cached = await startServer(dir, 300);
  await warm(cached, hot);
  rows.push(
    await load(cached, 'GET existing id, cached (1000 ids)', () => `/key?id=${hot[n++ % hot.length]}`),
  );
  rows.push(await load(cached, 'GET new id (create in 3 regions)', () => `/key?id=new-${n++}`));
  await cached.stop();

  await rm(path.join(dir, 'data'), { recursive: true, force: true });
  const uncached = await startServer(dir, 0);
  await warm(uncached, hot);
  rows.push(
    await load(
      uncached,
      'GET existing id, cache off (store read + Decrypt)',
      () => `/key?id=${hot[n++ % hot.length]}`,
    ),
  );
  await uncached.stop();
} finally {
  await rm(dir, { recursive: true, force: true });
}

console.log(`\n${connections} connections, ${duration} s per scenario, Node ${process.version}\n`);
console.log('| scenario | req/s | p50 ms | p99 ms | errors | server RSS MB |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(`| ${r.scenario} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.rssMb} |`);
