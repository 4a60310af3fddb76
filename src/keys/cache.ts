import { LRUCache } from 'lru-cache';

export interface KeyCacheOptions {
  /** 0 turns the cache off. */
  ttlMs: number;
  maxEntries: number;
}

/** Plaintext data keys in memory: bounded, expiring, wiped when evicted. */
export class KeyCache {
  readonly ttlMs: number;
  private readonly entries: LRUCache<string, Uint8Array> | undefined;

  constructor({ ttlMs, maxEntries }: KeyCacheOptions) {
    this.ttlMs = ttlMs;
    this.entries =
      ttlMs > 0
        ? new LRUCache<string, Uint8Array>({
            max: maxEntries,
            ttl: ttlMs,
            dispose: (key) => key.fill(0),
          })
        : undefined;
  }

  /** A copy, so that an eviction wiping the cached bytes never touches what a caller holds. */
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

  clear(): void {
    this.entries?.clear();
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }
}
