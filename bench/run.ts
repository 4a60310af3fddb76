/**
 * RKMS's benchmark (issue #9). The local KMS, dynalite, RKMS replicas and a bare Fastify
 * route each run in a process of their own; autocannon loads them from this one. Every
 * scenario prints req/s, p50, p99, errors and KMS calls per request, beside the bare route
 * in the same pattern (interleaved runs, medians).
 *
 *   npm run bench                      # the whole run (about 15 minutes on 2 cores)
 *   npm run bench -- --quick           # a short one, for a quick check
 *   npm run bench -- --record          # also writes bench/README.md's results and bench/chart.svg
 *   npm run bench -- --only a,b        # some scenarios (a–h)
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chartSvg } from './chart.js';
import { measureCachedKeys, type MemoryResult } from './memory.js';
import {
  killAll,
  ROOT,
  shippedConfig,
  startBareFastify,
  startDynalite,
  startLocalKms,
  type Part,
} from './processes.js';
import { record, resultsMarkdown } from './report.js';
import { Scenarios, type BenchSettings, type Row } from './scenarios.js';

/** us-east-1's own listener on the local KMS, so that its `down` fault refuses connections. */
const FIRST_REGION_PORT = 14_601;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    record: { type: 'boolean', default: false },
    only: { type: 'string' },
    connections: { type: 'string', default: '32' },
  },
});
const quick = values.quick;
const only = new Set((values.only ?? 'a,b,c,d,e,f,g,h').split(',').map((s) => s.trim()));

// RKMS runs compiled, as the Docker image runs it.
process.stderr.write('bench: npm run build ...\n');
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });

const dir = await mkdtemp(path.join(os.tmpdir(), 'rkms-bench-'));
const settings: BenchSettings = {
  dir,
  connections: Number(values.connections),
  runs: quick
    ? { rounds: 1, durationSeconds: 3, warmupSeconds: 0 }
    : { rounds: 3, durationSeconds: 10, warmupSeconds: 0 },
  cachedReadRuns: quick
    ? { rounds: 1, durationSeconds: 3, warmupSeconds: 1 }
    : { rounds: 7, durationSeconds: 4, warmupSeconds: 5 },
  ids: 1000,
  raceIds: quick ? 100 : 1000,
  cachedKeys: quick ? 10_000 : 100_000,
};

const started: Part[] = [];
const stopAll = async () => {
  await Promise.all(started.map((part) => part.stop()));
  killAll();
  await rm(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  void stopAll().then(() => process.exit(130));
});

const rows: Row[] = [];
let memory: MemoryResult | undefined;
try {
  const [kms, store, bare] = await Promise.all([
    startLocalKms(dir, FIRST_REGION_PORT),
    startDynalite(dir),
    startBareFastify(dir),
  ]);
  started.push(kms, store, bare);
  const parts = { kms, store, bare, firstRegionUrl: `http://127.0.0.1:${FIRST_REGION_PORT}` };
  const scenarios = new Scenarios(settings, parts);
  const step = async <T>(key: string, run: () => Promise<T>): Promise<T | undefined> => {
    if (![...only].some((k) => key.startsWith(k))) return undefined;
    process.stderr.write(`bench: (${key}) ...\n`);
    return run();
  };

  await scenarios.createExisting();
  const add = (row: Row | Row[] | undefined) => {
    for (const r of row === undefined ? [] : [row].flat()) {
      rows.push(r);
      process.stderr.write(
        `bench: (${r.key}) ${r.scenario}: ${Math.round(r.rkms.rps)} req/s, p99 ${r.rkms.p99} ms, ` +
          `${r.rkms.errors} errors${r.bare ? `, ${(r.rkms.rps / r.bare.rps).toFixed(2)}× bare` : ''}\n`,
      );
    }
  };
  add(await step('a', () => scenarios.cachedReads()));
  add(await step('b', () => scenarios.uncachedReads()));
  add(await step('c', () => scenarios.hotId()));
  add(await step('d', () => scenarios.newIds()));
  add(await step('e', () => scenarios.firstRegionFaults()));
  add(await step('f', () => scenarios.newIdsOneRegionDown()));
  add(await step('g', () => scenarios.threeReplicasRace()));
  memory = await step('h', () =>
    measureCachedKeys(
      dir,
      { kmsUrl: kms.url, firstRegionUrl: parts.firstRegionUrl, storeUrl: store.url, table: 'bench' },
      settings.cachedKeys,
    ),
  );
} finally {
  await stopAll();
}

async function shippedLogLevel(): Promise<string> {
  const level = (await shippedConfig()).logger?.level;
  return typeof level === 'string' ? level : 'info';
}

const cpus = os.cpus();
const results = resultsMarkdown(
  {
    date: new Date().toISOString().slice(0, 10),
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    logLevel: await shippedLogLevel(),
    connections: settings.connections,
    runs: settings.runs,
    cachedReadRuns: settings.cachedReadRuns,
  },
  rows,
  memory,
);
process.stdout.write(`\n${results}`);
if (values.record) {
  await record(path.join(ROOT, 'bench/README.md'), results);
  await writeFile(
    path.join(ROOT, 'bench/chart.svg'),
    chartSvg(rows, `RKMS against a bare Fastify route, ${cpus.length} cores, Node ${process.version}`),
  );
  process.stderr.write('bench: wrote bench/README.md and bench/chart.svg\n');
}
