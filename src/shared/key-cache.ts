import { LRUCache } from 'lru-cache';
import { privateCopy } from './secret-bytes.js';

export interface KeyCacheOptions {
  /** How long a key stays; 0 turns the cache off. */
  ttlMs: number;
  maxEntries: number;
  /** Milliseconds; decides expiry. */
  clock?: () => number;
}

/** Expired keys are wiped at least this often, whether or not anyone asks for them again. */
const MAX_PURGE_INTERVAL_MS = 60_000;

/**
 * Plaintext data keys in memory, for the service and for the client: bounded, expiring,
 * and wiped (`fill(0)`) whenever an entry leaves, by eviction, expiry, deletion or
 * replacement. Expired entries are purged by a timer that does not keep the process
 * alive, not only when someone asks for them. The cache keeps copies of its own and
 * hands out copies, so wiping one never touches another.
 */
export class KeyCache {
  private readonly entries: LRUCache<string, Buffer> | undefined;
  private readonly purgeTimer: NodeJS.Timeout | undefined;

  constructor({ ttlMs, maxEntries, clock = Date.now }: KeyCacheOptions) {
    if (ttlMs <= 0) return;
    const entries = new LRUCache<string, Buffer>({
      max: maxEntries,
      ttl: ttlMs,
      // Exact expiry from the given clock, rather than a clock cached for a millisecond.
      ttlResolution: 0,
      // lru-cache reads a start time of 0 as "no TTL"; a test clock may well start there.
      perf: { now: () => clock() + 1 },
      dispose: (key) => key.fill(0),
    });
    this.entries = entries;
    // A timer per entry (lru-cache's ttlAutopurge) would cost one timer per key; one sweep does.
    this.purgeTimer = setInterval(
      () => entries.purgeStale(),
      Math.max(1_000, Math.min(ttlMs, MAX_PURGE_INTERVAL_MS)),
    );
    this.purgeTimer.unref();
  }

  /** A copy: the caller may keep or wipe it, whatever happens to the entry. */
  get(id: string): Buffer | undefined {
    const key = this.entries?.get(id);
    return key && privateCopy(key);
  }

  /**
   * The key as text (base64 for an answer), encoded straight from the entry: no copy of
   * the bytes to allocate and wipe, and nothing handed out that the entry's wipe could reach.
   */
  encoded(id: string, encoding: BufferEncoding): string | undefined {
    return this.entries?.get(id)?.toString(encoding);
  }

  /** Keeps a copy of `key`. */
  set(id: string, key: Uint8Array): void {
    this.entries?.set(id, privateCopy(key));
  }

  delete(id: string): void {
    this.entries?.delete(id);
  }

  /** Keys held now (for the metrics). */
  get size(): number {
    return this.entries?.size ?? 0;
  }

  /** Wipes every key and stops the purge timer. */
  close(): void {
    clearInterval(this.purgeTimer);
    this.entries?.clear();
  }
}
