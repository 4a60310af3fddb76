/**
 * CPU time per request of a cached read, RKMS beside the bare Fastify route: user + system
 * time of every thread of each server process (/proc/<pid>/stat) over a load run, divided by
 * the requests it answered. Requests per second swing by a third from one minute to the next
 * on a shared 2-core machine; the CPU each request costs the server moves far less, so this
 * is the measure to compare two versions of the cached path with.
 *
 *   npm run bench:cpu                                  # 3 interleaved rounds of 5 s
 *   npm run bench:cpu -- --rounds 5 --seconds 10
 *   npm run bench:cpu -- --node-args=--cpu-prof        # profiles of both servers, in the bench's temp dir
 *   npm run bench:cpu -- --level warn                  # RKMS at another log level
 */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median, runLoad } from './load.js';
import {
  killAll,
  startBareFastify,
  startDynalite,
  startLocalKms,
  startRkms,
  type Part,
} from './processes.js';
import { getAll } from './scenarios.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    level: { type: 'string' },
    'node-args': { type: 'string' },
  },
});
const IDS = 1000;
const FIRST_REGION_PORT = 14_601;
/** Linux's USER_HZ: /proc reports CPU time in hundredths of a second. */
const TICK_US = 10_000;

function cpuMicros(part: Part): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${part.child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

async function measure(part: Part): Promise<{ rps: number; cpuUs: number }> {
  const before = cpuMicros(part);
  const result = await runLoad({
    url: part.url,
    connections: Number(values.connections),
    durationSeconds: Number(values.seconds),
    pathOf: (n) => `/key?id=cpu-${n % IDS}`,
  });
  return { rps: result.rps, cpuUs: (cpuMicros(part) - before) / result.requests };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'rkms-bench-cpu-'));
const nodeArgs = values['node-args']?.split(' ') ?? [];
const profiling = nodeArgs.includes('--cpu-prof');
// Profiles land beside the servers' output, not in the repository.
if (profiling) nodeArgs.push(`--cpu-prof-dir=${dir}`);
try {
  const [kms, store, bare] = await Promise.all([
    startLocalKms(dir, FIRST_REGION_PORT),
    startDynalite(dir),
    startBareFastify(dir, nodeArgs),
  ]);
  const rkms = await startRkms(dir, 'cpu', {
    kmsUrl: kms.url,
    firstRegionUrl: `http://127.0.0.1:${FIRST_REGION_PORT}`,
    storeUrl: store.url,
    table: 'cpu',
    ...(values.level ? { config: { logger: { level: values.level } } } : {}),
    nodeArgs,
  });
  await getAll(
    rkms.url,
    Array.from({ length: IDS }, (_, n) => `cpu-${n}`),
  );
  // A first run of each warms the JIT; it is not counted.
  await measure(rkms);
  await measure(bare);
  const rounds: { rkms: { rps: number; cpuUs: number }; bare: { rps: number; cpuUs: number } }[] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    const r = { rkms: await measure(rkms), bare: await measure(bare) };
    rounds.push(r);
    process.stderr.write(
      `bench:cpu: RKMS ${r.rkms.rps.toFixed(0)} req/s, ${r.rkms.cpuUs.toFixed(1)} µs CPU/request; ` +
        `bare ${r.bare.rps.toFixed(0)} req/s, ${r.bare.cpuUs.toFixed(1)} µs\n`,
    );
  }
  const rkmsUs = median(rounds.map((r) => r.rkms.cpuUs));
  const bareUs = median(rounds.map((r) => r.bare.cpuUs));
  process.stdout.write(
    `cached reads: RKMS ${rkmsUs.toFixed(1)} µs CPU/request, bare Fastify ${bareUs.toFixed(1)} µs: ` +
      `bare/RKMS ${(bareUs / rkmsUs).toFixed(2)} (req/s ${median(rounds.map((r) => r.rkms.rps / r.bare.rps)).toFixed(2)}×)` +
      `${profiling ? `; profiles in ${dir}` : ''}\n`,
  );
  await Promise.all([rkms.stop(), kms.stop(), store.stop(), bare.stop()]);
} finally {
  killAll();
}
