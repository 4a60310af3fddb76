import { LRUCache } from 'lru-cache';
import { wipe } from '../kms/key-material.js';
import { systemClock, type Clock } from '../resilience/clock.js';

export interface KeyCacheOptions {
  /** 0 turns the cache off. */
  ttlMs: number;
  maxEntries: number;
  clock?: Clock;
}

/** Expired keys are wiped at least this often, whether or not anyone asks for them again. */
const MAX_PURGE_INTERVAL_MS = 60_000;

/**
 * Plaintext data keys in memory: bounded, expiring, wiped when evicted or expired. The
 * cache holds its own copies and hands out copies, so wiping one never touches another.
 */
export class KeyCache {
  private readonly entries: LRUCache<string, Uint8Array> | undefined;
  private readonly purgeTimer: NodeJS.Timeout | undefined;

  constructor({ ttlMs, maxEntries, clock = systemClock }: KeyCacheOptions) {
    if (ttlMs <= 0) return;
    const entries = new LRUCache<string, Uint8Array>({
      max: maxEntries,
      ttl: ttlMs,
      dispose: wipe,
      perf: { now: clock },
    });
    this.entries = entries;
    // A timer per entry (lru-cache's ttlAutopurge) would cost one timer per key; one sweep does.
    this.purgeTimer = setInterval(
      () => entries.purgeStale(),
      Math.max(1000, Math.min(ttlMs, MAX_PURGE_INTERVAL_MS)),
    );
    this.purgeTimer.unref();
  }

  get(id: string): Uint8Array | undefined {
    const key = this.entries?.get(id);
    return key ? Uint8Array.from(key) : undefined;
  }

  set(id: string, key: Uint8Array): void {
    this.entries?.set(id, Uint8Array.from(key));
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
