import type { HedgeBudget } from './hedge-budget.js';

/** One way to get the answer, e.g. a call to one KMS region. */
export interface Candidate<T> {
  name: string;
  run(signal: AbortSignal): Promise<T>;
}

export class AllCandidatesFailed extends Error {
  override name = 'AllCandidatesFailed';
  constructor(readonly errors: unknown[]) {
    super(`all ${errors.length} attempts failed`);
  }
}

export interface HedgeOptions<T> {
  /** Start the next candidate when the running ones have not answered after this long; 0 = only on failure. */
  hedgeAfterMs: number;
  /** Hedges (not fallbacks after a failure) spend from this budget; none is started when it is empty. */
  budget?: HedgeBudget | undefined;
  /** Receives answers that arrive after the winner, so key material can be wiped. */
  discard?: (value: T) => void;
  /** The request's deadline: aborts every running candidate and starts no new one. */
  signal?: AbortSignal | undefined;
  /** Give up once this many candidates have failed (default: when every one has). */
  maxFailures?: number;
  /** Told when a hedge starts, for the metrics. */
  onHedge?: (name: string) => void;
}

export interface Answer<T> {
  value: T;
  /** The candidate that answered. */
  name: string;
  /** Whether the winner was started as a hedge while another was still running. */
  hedged: boolean;
  /** What the candidates that failed before the winner answered threw. */
  failures: unknown[];
}

/**
 * Runs the candidates in order, one at a time: the next one starts as soon as the
 * previous fails, or when it is slow (hedging, within the budget). The first answer wins
 * and the calls still running are aborted. Rejects with every failure when none answers.
 */
export function firstAnswer<T>(
  candidates: readonly Candidate<T>[],
  options: HedgeOptions<T>,
): Promise<Answer<T>> {
  const { hedgeAfterMs, budget, discard, signal, onHedge } = options;
  const maxFailures = options.maxFailures ?? candidates.length;
  return new Promise((resolve, reject) => {
    const running = new Set<AbortController>();
    const failures: unknown[] = [];
    let next = 0;
    let settled = false;
    let hedgeTimer: NodeJS.Timeout | undefined;

    const giveUp = () => {
      settled = true;
      clearTimeout(hedgeTimer);
      signal?.removeEventListener('abort', onDeadline);
      reject(new AllCandidatesFailed(failures));
    };
    const onDeadline = () => {
      clearTimeout(hedgeTimer);
      for (const controller of running) controller.abort(signal?.reason);
    };
    signal?.addEventListener('abort', onDeadline, { once: true });

    const canLaunch = () =>
      !settled && !signal?.aborted && next < candidates.length && failures.length < maxFailures;

    const armHedge = () => {
      if (hedgeAfterMs <= 0 || next >= candidates.length) return;
      hedgeTimer = setTimeout(() => {
        if (!canLaunch() || !(budget?.trySpend() ?? true)) return;
        onHedge?.(candidates[next]?.name ?? '');
        launch(true);
      }, hedgeAfterMs);
    };

    const launch = (asHedge: boolean) => {
      clearTimeout(hedgeTimer);
      const candidate = candidates[next++];
      if (!candidate) return;
      if (!asHedge) budget?.recordCall();
      const controller = new AbortController();
      running.add(controller);
      armHedge();
      const callSignal = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;

      candidate.run(callSignal).then(
        (value) => {
          running.delete(controller);
          if (settled) {
            discard?.(value);
            return;
          }
          settled = true;
          clearTimeout(hedgeTimer);
          signal?.removeEventListener('abort', onDeadline);
          for (const other of running) other.abort();
          resolve({ value, name: candidate.name, hedged: asHedge, failures: [...failures] });
        },
        (error: unknown) => {
          running.delete(controller);
          if (settled) return;
          failures.push(error);
          if (canLaunch()) launch(false);
          else if (running.size === 0) giveUp();
        },
      );
    };

    if (!canLaunch()) giveUp();
    else launch(false);
  });
}
