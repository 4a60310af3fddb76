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
 *   npm run bench:cpu -- --against c132a9c             # and the build of another commit, interleaved
 *   npm run bench:cpu -- --against c132a9c --against-first   # the same, that build started first
 *   npm run bench:cpu -- --replicas 2 --against c132a9c       # two replicas of each build
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { median, PathSequence, runLoad } from './load.js';
import {
  ROOT,
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
    against: { type: 'string' },
    'against-first': { type: 'boolean', default: false },
    replicas: { type: 'string', default: '1' },
  },
});
const IDS = 1000;
const FIRST_REGION_PORT = 14_601;
/** Linux's USER_HZ: /proc reports CPU time in hundredths of a second. */
const TICK_US = 10_000;
const run = promisify(execFile);

function cpuMicros(part: Part): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${part.child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

interface Sample {
  rps: number;
  cpuUs: number;
}

async function measure(part: Part): Promise<Sample> {
  const before = cpuMicros(part);
  const result = await runLoad({
    url: part.url,
    connections: Number(values.connections),
    durationSeconds: Number(values.seconds),
    paths: new PathSequence((n) => `/key?id=cpu-${n % IDS}`),
  });
  return { rps: result.rps, cpuUs: (cpuMicros(part) - before) / result.requests };
}

/** A detached worktree of `ref`, built, sharing this checkout's node_modules. */
async function buildOf(ref: string, dir: string): Promise<string> {
  const tree = path.join(dir, 'against');
  await run('git', ['worktree', 'add', '--detach', tree, ref], { cwd: ROOT });
  await symlink(path.join(ROOT, 'node_modules'), path.join(tree, 'node_modules'));
  await run(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: tree,
    },
  );
  return tree;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'rkms-bench-cpu-'));
const nodeArgs = values['node-args']?.split(' ') ?? [];
const profiling = nodeArgs.includes('--cpu-prof');
// Profiles land beside the servers' output, not in the repository.
if (profiling) nodeArgs.push(`--cpu-prof-dir=${dir}`);
const against = values.against === undefined ? undefined : await buildOf(values.against, dir);
try {
  const [kms, store, bare] = await Promise.all([
    startLocalKms(dir, FIRST_REGION_PORT),
    startDynalite(dir),
    startBareFastify(dir, nodeArgs),
  ]);
  const rkmsAt = async (name: string, root: string | undefined) => {
    const part = await startRkms(dir, name, {
      kmsUrl: kms.url,
      firstRegionUrl: `http://127.0.0.1:${FIRST_REGION_PORT}`,
      storeUrl: store.url,
      table: name,
      ...(values.level ? { config: { logger: { level: values.level } } } : {}),
      nodeArgs,
      ...(root === undefined ? {} : { root }),
    });
    await getAll(
      part.url,
      Array.from({ length: IDS }, (_, n) => `cpu-${n}`),
    );
    return part;
  };
  // Two replicas of one build still differ by up to 10% in CPU per request, for as long as
  // they run (see bench/README.md): compare two builds with --replicas 2 or more, and swap
  // the order with --against-first.
  const rkmsParts: [string, Part][] = [];
  const starts: [string, string | undefined][] = [['RKMS', undefined]];
  if (against !== undefined) {
    const other: [string, string] = [`RKMS ${values.against}`, against];
    if (values['against-first']) starts.unshift(other);
    else starts.push(other);
  }
  const replicas = Number(values.replicas);
  for (let replica = 1; replica <= replicas; replica++) {
    for (const [name, root] of starts) {
      const label = replicas === 1 ? name : `${name} #${replica}`;
      rkmsParts.push([label, await rkmsAt(`${root === undefined ? 'cpu' : 'against'}_${replica}`, root)]);
    }
  }
  const servers: [string, Part][] = [['bare Fastify', bare], ...rkmsParts];
  // A first run of each warms the JIT; it is not counted.
  for (const [, part] of servers) await measure(part);
  const samples = new Map<string, Sample[]>(servers.map(([name]) => [name, []]));
  for (let round = 0; round < Number(values.rounds); round++) {
    // Each round in the other order, so that no server always follows the same one.
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const [name, part] of order) samples.get(name)?.push(await measure(part));
    process.stderr.write(
      `bench:cpu: ${servers
        .map(([name]) => {
          const last = samples.get(name)?.at(-1);
          return `${name} ${last?.rps.toFixed(0)} req/s, ${last?.cpuUs.toFixed(1)} µs CPU/request`;
        })
        .join('; ')}\n`,
    );
  }
  const bareRps = median(samples.get('bare Fastify')?.map((s) => s.rps) ?? []);
  for (const [name, list] of samples) {
    const rps = median(list.map((s) => s.rps));
    process.stdout.write(
      `${name}: ${median(list.map((s) => s.cpuUs)).toFixed(1)} µs CPU/request, ${rps.toFixed(0)} req/s ` +
        `(${(rps / bareRps).toFixed(2)}× bare)\n`,
    );
  }
  if (profiling) process.stdout.write(`profiles in ${dir}\n`);
  await Promise.all([...servers.map(([, part]) => part.stop()), kms.stop(), store.stop()]);
} finally {
  killAll();
  if (against !== undefined) await run('git', ['worktree', 'remove', '--force', against], { cwd: ROOT });
}
