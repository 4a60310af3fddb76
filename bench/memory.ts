/**
 * (h) What cached keys cost in memory: the RSS growth of a real replica while it caches
 * `count` keys, and, in a process of its own with the garbage collector at hand, the bytes
 * one cache entry holds.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { getAll } from './scenarios.js';
import { ROOT, startRkms, type Part, type RkmsOptions } from './processes.js';

export interface MemoryResult {
  count: number;
  baselineMb: number;
  grownMb: number;
  /** RSS growth per cached key in the replica, in bytes. */
  bytesPerKey: number;
  /** The cache alone: heap and buffer bytes per entry, measured after a full GC. */
  entryBytes: number;
}

/** Keys created (and so cached) before the baseline is taken, so JIT and heap reach their working size. */
const WARM_UP = 5_000;

export async function measureCachedKeys(
  dir: string,
  options: RkmsOptions,
  count: number,
): Promise<MemoryResult> {
  const rkms = await startRkms(dir, 'memory', {
    ...options,
    cacheTtlSeconds: 3600,
    maxEntries: count + WARM_UP,
  });
  try {
    await getAll(rkms.url, ids('memory-warm', WARM_UP));
    const baselineMb = await rkms.rssMb();
    await getAll(rkms.url, ids('memory', count));
    const grownMb = (await settledRssMb(rkms)) - baselineMb;
    return {
      count,
      baselineMb,
      grownMb,
      bytesPerKey: (grownMb * 1024 * 1024) / count,
      entryBytes: await cacheEntryBytes(count),
    };
  } finally {
    await rkms.stop();
  }
}

/**
 * The RSS once the replica has gone quiet: the creating requests leave garbage that V8 keeps
 * as heap until its memory reducer collects it, a few seconds after the allocation rate
 * drops. What stays after that is what the cached keys cost; what a replica under load
 * holds on top is its working garbage, which the heap limit bounds (see bench/README.md).
 */
async function settledRssMb(rkms: Part): Promise<number> {
  const samples: number[] = [];
  for (let waited = 0; waited < SETTLE_LIMIT_S; waited++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    samples.push(await rkms.rssMb());
    const recent = samples.slice(-SETTLED_FOR_S);
    if (recent.length === SETTLED_FOR_S && Math.max(...recent) - Math.min(...recent) < 1) break;
  }
  process.stderr.write(
    `bench: (h) RSS while settling, MiB: ${samples.map((mb) => mb.toFixed(0)).join(' ')}\n`,
  );
  return samples.at(-1) ?? 0;
}

/** The RSS counts as settled when it moved less than 1 MiB over this many seconds… */
const SETTLED_FOR_S = 10;
/** …or after this long. */
const SETTLE_LIMIT_S = 60;

const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, n) => `${prefix}-${n}`);

async function cacheEntryBytes(count: number): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'bench/cache-entry-size.ts', String(count)],
    { cwd: ROOT },
  );
  return Number(stdout.trim());
}
