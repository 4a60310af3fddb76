import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyCache } from '../../src/shared/key-cache.js';

/** Every copy of a key the cache makes, so a test can see the cache's own copies wiped. */
const copies = vi.hoisted(() => [] as Buffer[]);
vi.mock('../../src/shared/secret-bytes.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/shared/secret-bytes.js')>();
  return {
    ...original,
    privateCopy: (bytes: Uint8Array) => {
      const copy = original.privateCopy(bytes);
      copies.push(copy);
      return copy;
    },
  };
});

afterEach(() => {
  vi.useRealTimers();
});

const key = (byte: number) => Buffer.alloc(32, byte);
const wiped = Buffer.alloc(32);

/** Stores `value` and returns the cache's own copy of it. */
function store(cache: KeyCache, id: string, value: Buffer): Buffer {
  cache.set(id, value);
  const copy = copies.at(-1);
  if (!copy) throw new Error('the cache made no copy');
  return copy;
}

describe('the key cache', () => {
  it('hands out copies and keeps a copy of its own', () => {
    const cache = new KeyCache({ ttlMs: 1000, maxEntries: 10, clock: () => 1 });
    const original = key(7);
    cache.set('a', original);
    original.fill(0);
    cache.get('a')?.fill(0);
    expect(cache.get('a')).toEqual(key(7));
    cache.close();
  });

  it('wipes a key when it expires, is evicted, deleted or replaced, and on close', () => {
    let now = 0;
    const cache = new KeyCache({ ttlMs: 1000, maxEntries: 2, clock: () => now });
    const expiring = store(cache, 'expiring', key(1));
    now += 1001;
    expect(cache.get('expiring')).toBeUndefined();
    expect(expiring).toEqual(wiped);

    const evicted = store(cache, 'evicted', key(2));
    const deleted = store(cache, 'deleted', key(3));
    store(cache, 'third', key(4));
    expect(evicted).toEqual(wiped);
    cache.delete('deleted');
    expect(deleted).toEqual(wiped);
    const replaced = store(cache, 'replaced', key(5));
    store(cache, 'replaced', key(6));
    expect(replaced).toEqual(wiped);

    const last = store(cache, 'last', key(7));
    cache.close();
    expect(last).toEqual(wiped);
    expect(cache.size).toBe(0);
  });

  it('purges expired keys on a timer that does not keep the process alive', () => {
    vi.useFakeTimers();
    let now = 1_000;
    const cache = new KeyCache({ ttlMs: 5000, maxEntries: 10, clock: () => now });
    const stored = store(cache, 'a', key(9));
    expect(vi.getTimerCount()).toBe(1);
    now += 5001;
    vi.advanceTimersByTime(5000);
    // Nobody asked for 'a', yet it is gone and wiped.
    expect(cache.size).toBe(0);
    expect(stored).toEqual(wiped);
    cache.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('unrefs its purge timer', () => {
    const setInterval = vi.spyOn(globalThis, 'setInterval');
    const cache = new KeyCache({ ttlMs: 5000, maxEntries: 10, clock: Date.now });
    const timer = setInterval.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    cache.close();
    setInterval.mockRestore();
  });
});
