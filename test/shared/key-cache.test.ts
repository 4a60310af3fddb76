import { LRUCache } from 'lru-cache';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyCache } from '../../src/shared/key-cache.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/**
 * The copies the cache keeps (it stores its own copy of every key it is given), seen on
 * their way into its LRU, so a test can tell whether those very bytes were zeroed.
 */
function heldCopies(): { get(id: string): Uint8Array | undefined } {
  const set = vi.spyOn(LRUCache.prototype, 'set');
  return {
    get: (id) => set.mock.calls.findLast(([key]) => key === id)?.[1] as Uint8Array | undefined,
  };
}

const zeroed = (key: Uint8Array | undefined) => key?.every((byte) => byte === 0) === true;

describe('KeyCache', () => {
  it('hands out copies: wiping one never touches the cached key', () => {
    const cache = new KeyCache({ ttlMs: 60_000, maxEntries: 10 });
    const key = Buffer.alloc(32, 7);
    cache.set('a', key);
    key.fill(0);
    const first = cache.get('a');
    first?.fill(0);
    expect(cache.get('a')).toEqual(Buffer.alloc(32, 7));
    cache.close();
  });

  it('wipes and drops expired keys on its own, whether or not anyone asks for them again', () => {
    const held = heldCopies();
    const cache = new KeyCache({ ttlMs: 5_000, maxEntries: 10, clock: Date.now });
    cache.set('a', Buffer.alloc(32, 1));
    cache.set('b', Buffer.alloc(32, 2));
    expect(held.get('a')).toEqual(Buffer.alloc(32, 1));
    expect(held.get('b')).toEqual(Buffer.alloc(32, 2));
    vi.advanceTimersByTime(4_999);
    expect(cache.size).toBe(2);
    expect(zeroed(held.get('a')) || zeroed(held.get('b'))).toBe(false);
    vi.advanceTimersByTime(5_001); // past the TTL and the next purge; nobody asked for a or b
    expect(cache.size).toBe(0);
    expect(held.get('a')).toEqual(Buffer.alloc(32));
    expect(held.get('b')).toEqual(Buffer.alloc(32));
    cache.close();
  });

  it('evicts the least recently used key beyond max_entries, and wipes it', () => {
    const held = heldCopies();
    const cache = new KeyCache({ ttlMs: 60_000, maxEntries: 2 });
    cache.set('a', Buffer.from([1]));
    cache.set('b', Buffer.from([2]));
    cache.get('a');
    cache.set('c', Buffer.from([3]));
    expect(cache.get('b')).toBeUndefined();
    expect(held.get('b')).toEqual(Buffer.from([0]));
    expect(cache.get('a')).toEqual(Buffer.from([1]));
    cache.close();
  });

  it('wipes every key it holds when closed', () => {
    const held = heldCopies();
    const cache = new KeyCache({ ttlMs: 60_000, maxEntries: 10 });
    cache.set('a', Buffer.alloc(32, 1));
    cache.delete('missing');
    expect(zeroed(held.get('a'))).toBe(false);
    cache.close();
    expect(held.get('a')).toEqual(Buffer.alloc(32));
  });

  it('encodes a key straight from its entry, leaving the entry whole, and nothing once it expired', () => {
    const cache = new KeyCache({ ttlMs: 60_000, maxEntries: 10 });
    const copies = heldCopies();
    cache.set('a', Buffer.alloc(32, 7));
    expect(cache.encoded('a', 'base64')).toBe(Buffer.alloc(32, 7).toString('base64'));
    expect(copies.get('a')).toEqual(Buffer.alloc(32, 7));
    expect(cache.encoded('b', 'base64')).toBeUndefined();
    vi.advanceTimersByTime(60_001);
    expect(cache.encoded('a', 'base64')).toBeUndefined();
    expect(zeroed(copies.get('a'))).toBe(true);
    cache.close();
  });

  it('holds nothing when off (TTL 0)', () => {
    const cache = new KeyCache({ ttlMs: 0, maxEntries: 10 });
    cache.set('a', Buffer.from([1]));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.encoded('a', 'base64')).toBeUndefined();
    cache.close();
  });
});
