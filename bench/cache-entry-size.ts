/**
 * Prints the bytes one entry of RKMS's key cache holds (heap and buffers, after a full
 * garbage collection), for `node --expose-gc --import tsx bench/cache-entry-size.ts <count>`.
 * Ids look like the bench's (`memory-<n>`); keys are 32 bytes.
 */
import { randomBytes } from 'node:crypto';
import { KeyCache } from '../src/shared/key-cache.js';

const count = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const used = () => {
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};

const cache = new KeyCache({ ttlMs: 3_600_000, maxEntries: count });
const before = used();
const key = randomBytes(32);
// Each id is made here, so the cache is what holds it, as it holds a request's id.
for (let n = 0; n < count; n++) cache.set(`memory-${n}`, key);
const after = used();
process.stdout.write(`${Math.round((after - before) / count)}\n`);
cache.close();
