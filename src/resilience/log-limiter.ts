import type { Clock } from './clock.js';

/**
 * Lets one log line per subject through per interval, and counts the ones it held back,
 * so a problem met on every request is reported often enough to notice, not once per request.
 */
export class LogLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly clock: Clock,
  ) {}

  /** The number of lines held back since the last one, or undefined when this one is held back too. */
  take(subject: string): number | undefined {
    const now = this.clock();
    const entry = this.last.get(subject);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    if (this.last.size > 10_000) this.last.clear(); // bounded: subjects include ids
    this.last.set(subject, { at: now, suppressed: 0 });
    return entry?.suppressed ?? 0;
  }
}
