import type { Clock } from './clock.js';
import { RollingCounts } from './rolling-counts.js';

export interface HedgeBudgetOptions {
  /** Hedges allowed as a share of the first calls made over the window. */
  percent: number;
  /** Hedges always allowed per window, so that light traffic can still hedge. */
  floor: number;
  windowMs: number;
  clock: Clock;
}

/**
 * Extra concurrent calls (hedges) spend from a budget that ordinary calls refill, so a
 * slow dependency cannot make RKMS multiply its own traffic: at most `floor` hedges plus
 * `percent` of the calls over the window.
 */
export class HedgeBudget {
  private readonly counts: RollingCounts<'call' | 'hedge'>;

  constructor(private readonly options: HedgeBudgetOptions) {
    this.counts = new RollingCounts(options.windowMs, options.clock);
  }

  /** A first call: refills the budget. */
  recordCall(): void {
    this.counts.add('call');
  }

  /** Takes one hedge from the budget; false when it is spent. */
  trySpend(): boolean {
    const allowed = this.options.floor + (this.counts.total('call') * this.options.percent) / 100;
    if (this.counts.total('hedge') + 1 > allowed) return false;
    this.counts.add('hedge');
    return true;
  }
}
