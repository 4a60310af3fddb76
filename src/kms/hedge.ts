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
  /** Receives answers that arrive after the winner, so key material can be wiped. */
  discard?: (value: T) => void;
}

/**
 * Runs the candidates in order, one at a time: the next one starts as soon as the
 * previous fails, or when it is slow (hedging). The first answer wins and the
 * calls still running are aborted. Rejects with every failure when none answers.
 */
export function firstAnswer<T>(
  candidates: readonly Candidate<T>[],
  { hedgeAfterMs, discard }: HedgeOptions<T>,
): Promise<{ value: T; name: string }> {
  return new Promise((resolve, reject) => {
    const running = new Set<AbortController>();
    const errors: unknown[] = [];
    let next = 0;
    let settled = false;
    let hedgeTimer: NodeJS.Timeout | undefined;

    const finish = () => {
      settled = true;
      clearTimeout(hedgeTimer);
    };

    const launch = () => {
      clearTimeout(hedgeTimer);
      const candidate = candidates[next++];
      if (settled || !candidate) return;
      const controller = new AbortController();
      running.add(controller);
      if (hedgeAfterMs > 0 && next < candidates.length) hedgeTimer = setTimeout(launch, hedgeAfterMs);

      candidate.run(controller.signal).then(
        (value) => {
          running.delete(controller);
          if (settled) return discard?.(value);
          finish();
          for (const other of running) other.abort();
          resolve({ value, name: candidate.name });
        },
        (error: unknown) => {
          running.delete(controller);
          if (settled) return;
          errors.push(error);
          if (next < candidates.length) launch();
          else if (running.size === 0) {
            finish();
            reject(new AllCandidatesFailed(errors));
          }
        },
      );
    };

    if (candidates.length === 0) reject(new AllCandidatesFailed([]));
    else launch();
  });
}
