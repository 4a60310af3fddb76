import type { Clock } from './clock.js';

const BUCKETS = 10;

/**
 * Counts of named events over the last `windowMs`, in ten buckets so that old events
 * leave the window gradually. Old buckets are dropped when the counts are touched: no timer.
 */
export class RollingCounts<Name extends string> {
  private readonly bucketMs: number;
  private readonly buckets = new Map<number, Partial<Record<Name, number>>>();

  constructor(
    windowMs: number,
    private readonly clock: Clock,
  ) {
    this.bucketMs = Math.max(1, windowMs / BUCKETS);
  }

  add(name: Name, count = 1): void {
    const index = this.currentIndex();
    let bucket = this.buckets.get(index);
    if (!bucket) {
      bucket = {};
      this.buckets.set(index, bucket);
    }
    bucket[name] = (bucket[name] ?? 0) + count;
  }

  total(name: Name): number {
    this.currentIndex();
    let sum = 0;
    for (const bucket of this.buckets.values()) sum += bucket[name] ?? 0;
    return sum;
  }

  clear(): void {
    this.buckets.clear();
  }

  /** The current bucket's index, after dropping the buckets that left the window. */
  private currentIndex(): number {
    const index = Math.floor(this.clock() / this.bucketMs);
    for (const old of this.buckets.keys()) if (old <= index - BUCKETS) this.buckets.delete(old);
    return index;
  }
}
