import type { Clock } from './clock.js';
import { RollingCounts } from './rolling-counts.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Why a circuit opened: its calls kept failing, or its configuration cannot work (a disabled key). */
export type TripReason = 'failing' | 'misconfigured';

/** Leave to make one call: an ordinary call, or the single probe of a half-open circuit. */
export type Permit = 'call' | 'probe';

export interface CircuitOptions {
  /** Open when more than this share of the calls in the window failed... */
  failureRatePercent: number;
  /** ...once the window holds at least this many calls. */
  minimumCalls: number;
  windowMs: number;
  /** An open circuit lets one probe call through after this long. */
  resetAfterMs: number;
  clock: Clock;
  onChange?: (change: { from: CircuitState; to: CircuitState; reason?: TripReason }) => void;
}

/**
 * A circuit breaker fed by real outcomes. Half-open is computed when asked (no timer):
 * once `resetAfterMs` has passed, the next caller gets the one probe permit, and the
 * probe's outcome closes or re-opens the circuit. Calls that were cancelled, or that
 * failed for reasons that say nothing about the dependency, are `release`d: they count
 * neither way.
 */
export class CircuitBreaker {
  private opened: { at: number; reason: TripReason } | undefined;
  private probing = false;
  private readonly outcomes: RollingCounts<'success' | 'failure'>;

  constructor(private readonly options: CircuitOptions) {
    this.outcomes = new RollingCounts(options.windowMs, options.clock);
  }

  get state(): CircuitState {
    if (!this.opened) return 'closed';
    return this.options.clock() - this.opened.at >= this.options.resetAfterMs ? 'half-open' : 'open';
  }

  /** Why the circuit is not closed, while it is not. */
  get reason(): TripReason | undefined {
    return this.opened?.reason;
  }

  /** Whether `acquire` would grant a permit now, without taking it. */
  get permits(): boolean {
    const state = this.state;
    return state === 'closed' || (state === 'half-open' && !this.probing);
  }

  /** A probe permit is waiting for a caller: the circuit is half-open and nobody is probing. */
  get probeDue(): boolean {
    return this.state === 'half-open' && !this.probing;
  }

  acquire(): Permit | undefined {
    const state = this.state;
    if (state === 'closed') return 'call';
    if (state === 'half-open' && !this.probing) {
      this.probing = true;
      return 'probe';
    }
    return undefined;
  }

  success(permit: Permit): void {
    if (permit === 'probe') {
      this.probing = false;
      this.close();
    }
    if (!this.opened) this.outcomes.add('success');
  }

  failure(permit: Permit): void {
    if (permit === 'probe') {
      this.probing = false;
      this.open(this.opened?.reason ?? 'failing');
      return;
    }
    if (this.opened) return;
    this.outcomes.add('failure');
    const failures = this.outcomes.total('failure');
    const calls = failures + this.outcomes.total('success');
    if (calls >= this.options.minimumCalls && (failures * 100) / calls > this.options.failureRatePercent) {
      this.open('failing');
    }
  }

  /** The call's outcome says nothing about the dependency's health. */
  release(permit: Permit): void {
    if (permit === 'probe') this.probing = false;
  }

  /** Opens at once, whatever the counts: the dependency cannot work as configured. */
  trip(reason: TripReason, permit?: Permit): void {
    if (permit === 'probe') this.probing = false;
    this.open(reason);
  }

  private open(reason: TripReason): void {
    const from = this.state;
    this.opened = { at: this.options.clock(), reason };
    this.outcomes.clear();
    if (from !== 'open') this.options.onChange?.({ from, to: 'open', reason });
  }

  private close(): void {
    const from = this.state;
    this.opened = undefined;
    this.outcomes.clear();
    if (from !== 'closed') this.options.onChange?.({ from, to: 'closed' });
  }
}
