/**
 * (h) What cached keys cost in memory: the RSS growth of a real replica while it caches
 * `count` keys, and, in a process of its own with the garbage collector at hand, the bytes
 * one cache entry holds.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { getAll } from './scenarios.js';
import { ROOT, startRkms, type RkmsOptions } from './processes.js';

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
    // Let the collector catch up with the garbage of the requests themselves.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const grownMb = (await rkms.rssMb()) - baselineMb;
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

const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, n) => `${prefix}-${n}`);

async function cacheEntryBytes(count: number): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'bench/cache-entry-size.ts', String(count)],
    { cwd: ROOT },
  );
  return Number(stdout.trim());
}
