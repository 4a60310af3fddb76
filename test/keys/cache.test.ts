import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyCache } from '../../src/keys/cache.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('KeyCache', () => {
  it('hands out copies: wiping one never touches the cached key', () => {
    const cache = new KeyCache({ ttlMs: 60_000, maxEntries: 10 });
    const key = new Uint8Array(32).fill(7);
    cache.set('a', key);
    key.fill(0);
    const first = cache.get('a');
    first?.fill(0);
    expect(cache.get('a')).toEqual(new Uint8Array(32).fill(7));
    cache.close();
  });

  it('wipes and drops expired keys on its own, whether or not anyone asks for them again', () => {
    const cache = new KeyCache({ ttlMs: 5_000, maxEntries: 10, clock: Date.now });
    cache.set('a', new Uint8Array(32).fill(1));
    cache.set('b', new Uint8Array(32).fill(2));
    expect(cache.size).toBe(2);
    vi.advanceTimersByTime(4_999);
    expect(cache.size).toBe(2);
    vi.advanceTimersByTime(5_001); // past the TTL and the next purge
    expect(cache.size).toBe(0);
    cache.close();
  });

  it('evicts the least recently used key beyond max_entries', () => {
    const cache = new KeyCache({ ttlMs: 60_000, maxEntries: 2 });
    cache.set('a', new Uint8Array([1]));
    cache.set('b', new Uint8Array([2]));
    cache.get('a');
    cache.set('c', new Uint8Array([3]));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toEqual(new Uint8Array([1]));
    cache.close();
  });

  it('holds nothing when off (TTL 0)', () => {
    const cache = new KeyCache({ ttlMs: 0, maxEntries: 10 });
    cache.set('a', new Uint8Array([1]));
    expect(cache.get('a')).toBeUndefined();
    cache.close();
  });
});
