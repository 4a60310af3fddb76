import { backoffDelay } from './backoff.js';

/** A replica that failed is tried after the others for 1 s, then 2 s, … up to 30 s while it keeps failing. */
const COOLDOWN = { baseDelayMs: 1_000, maxDelayMs: 30_000 };

interface ReplicaState {
  failures: number;
  /** Until then (clock ms) the replica is tried only after the healthy ones. */
  coolUntil: number;
}

/**
 * What the client remembers about its replicas across calls: calls start on each in
 * turn, and a replica that just failed goes to the back of the line, so a replica that
 * is down costs one failed attempt now and then, not one per call. It is never skipped:
 * when every replica failed, the one that cools down first is tried first.
 */
export class Replicas {
  private turn = 0;
  private readonly states: ReplicaState[];

  constructor(
    readonly urls: readonly string[],
    private readonly random: () => number,
  ) {
    this.states = urls.map(() => ({ failures: 0, coolUntil: 0 }));
  }

  /** Replica indexes in the order a new call should try them. */
  order(now: number): number[] {
    const count = this.urls.length;
    const start = this.turn++ % count;
    const rotated = Array.from({ length: count }, (_, i) => (start + i) % count);
    const coolUntil = (index: number) => Math.max(now, this.states[index]?.coolUntil ?? 0);
    // Array.prototype.sort is stable: healthy replicas keep their round-robin order.
    return rotated.sort((a, b) => coolUntil(a) - coolUntil(b));
  }

  failed(index: number, now: number): void {
    const state = this.states[index];
    if (!state) return;
    state.failures += 1;
    state.coolUntil = now + backoffDelay(state.failures, COOLDOWN, this.random);
  }

  succeeded(index: number): void {
    const state = this.states[index];
    if (!state) return;
    state.failures = 0;
    state.coolUntil = 0;
  }
}
