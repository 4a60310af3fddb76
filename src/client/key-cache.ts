import { LRUCache } from 'lru-cache';
import { privateCopy } from './secret-bytes.js';

export interface KeyCacheOptions {
  ttlMs: number;
  maxEntries: number;
  /** Milliseconds; decides expiry. */
  clock: () => number;
}

/**
 * Data keys in memory: bounded, expiring, and wiped (`fill(0)`) whenever an entry
 * leaves, by eviction, expiry, deletion or replacement. Expired entries are purged by
 * a timer that does not keep the process alive, not only when someone asks for them.
 */
export class KeyCache {
  private readonly entries: LRUCache<string, Buffer>;
  private readonly purgeTimer: NodeJS.Timeout;

  constructor({ ttlMs, maxEntries, clock }: KeyCacheOptions) {
    this.entries = new LRUCache<string, Buffer>({
      max: maxEntries,
      ttl: ttlMs,
      // Exact expiry from the given clock, rather than a clock cached for a millisecond.
      ttlResolution: 0,
      // lru-cache reads a start time of 0 as "no TTL"; a test clock may well start there.
      perf: { now: () => clock() + 1 },
      dispose: (key) => key.fill(0),
    });
    this.purgeTimer = setInterval(() => this.entries.purgeStale(), Math.max(1_000, ttlMs));
    this.purgeTimer.unref();
  }

  /** A copy: the caller may keep or wipe it, whatever happens to the entry. */
  get(id: string): Buffer | undefined {
    const key = this.entries.get(id);
    return key && privateCopy(key);
  }

  /** Keeps a copy of `key`. */
  set(id: string, key: Uint8Array): void {
    this.entries.set(id, privateCopy(key));
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Wipes every key and stops the purge timer. */
  close(): void {
    clearInterval(this.purgeTimer);
    this.entries.clear();
  }
}
