import { untilAborted } from './abortable.js';
import { attempt, NoAnswer, type Answer, type ApiRequest } from './attempt.js';
import { backoffDelay } from './backoff.js';
import { classify } from './classify.js';
import { RkmsError } from './errors.js';
import type { CallOptions, ResolvedOptions, TokenSource } from './options.js';
import type { Replicas } from './replicas.js';
import { RETRY_COST, TIMEOUT_RETRY_COST, type RetryBudget } from './retry-budget.js';

export interface CallDependencies {
  options: ResolvedOptions;
  replicas: Replicas;
  budget: RetryBudget;
}

/** When a call must end, and the caller's way to cancel it. */
export interface CallLimits {
  /** Clock milliseconds. */
  deadlineAt: number;
  signal?: AbortSignal | undefined;
}

/** The limits of a call that starts now. */
export function callLimits(options: ResolvedOptions, call: CallOptions = {}): CallLimits {
  return { deadlineAt: options.clock() + (call.deadlineMs ?? options.deadlineMs), signal: call.signal };
}

/** The answer a call ended with: a success, or an error that another attempt would not change. */
export interface Exchange {
  answer: Answer;
  url: string;
  /** An earlier attempt failed in a way that leaves open whether the server carried it out. */
  earlierMayHaveApplied: boolean;
  attempts: number;
}

/**
 * Sends `request` until a replica gives an answer worth keeping. A 429, 502, 503 or 504,
 * a lost connection and a timed-out attempt are retried: on the replica that can be
 * asked soonest, the others first, each replica backing off exponentially and never
 * asked before its Retry-After. Throws the last such error when the deadline, the
 * attempts or the retry budget run out; the caller's abort rejects with its reason.
 */
export async function callRkms(
  request: ApiRequest,
  { deadlineAt: deadline, signal }: CallLimits,
  { options, replicas, budget }: CallDependencies,
): Promise<Exchange> {
  const { clock } = options;
  const order = replicas.order(clock());
  // Per replica, for this call: failures so far and when it may be asked again.
  const failures = new Map<number, number>();
  const notBefore = new Map<number, number>();
  let last: RkmsError | undefined;
  let earlierMayHaveApplied = false;

  for (let attempts = 1; ; attempts++) {
    const index = soonest(order, notBefore);
    if (last) {
      const wait = Math.max(0, (notBefore.get(index) ?? 0) - clock());
      if (attempts > options.maxAttempts || clock() + wait >= deadline)
        throw last.afterAttempts(attempts - 1);
      if (!budget.trySpend(last.errorType === 'Timeout' ? TIMEOUT_RETRY_COST : RETRY_COST))
        throw last.afterAttempts(attempts - 1);
      if (wait > 0) await untilAborted(options.sleep(wait), signal);
    }
    const remaining = deadline - clock();
    if (remaining <= 0) throw deadlineExceeded(attempts - 1, last);
    const url = options.urls[index] ?? '';
    const timeoutMs = Math.min(options.attemptTimeoutMs, remaining);
    let failure: RkmsError;
    try {
      const answer = await attempt(request, {
        fetch: options.fetch,
        baseUrl: url,
        token: await currentToken(options.token),
        timeoutMs,
        signal,
        now: clock() / 1000,
      });
      const verdict = classify(answer, url);
      if (verdict.kind !== 'retry') {
        replicas.succeeded(index);
        if (verdict.kind === 'success') budget.succeeded();
        return { answer, url, earlierMayHaveApplied, attempts };
      }
      failure = verdict.error;
      earlierMayHaveApplied ||= verdict.mayHaveApplied;
    } catch (error) {
      if (!(error instanceof NoAnswer)) throw error;
      // The attempt was cut short by the deadline, not by its own timeout.
      if (error.errorType === 'Timeout' && timeoutMs < options.attemptTimeoutMs)
        throw deadlineExceeded(attempts, error);
      failure = error;
      earlierMayHaveApplied ||= error.mayHaveApplied;
    }
    const failed = (failures.get(index) ?? 0) + 1;
    failures.set(index, failed);
    replicas.failed(index, clock());
    const retryAfterMs = (failure.retryAfterSeconds ?? 0) * 1000;
    notBefore.set(index, clock() + Math.max(retryAfterMs, backoffDelay(failed, options, options.random)));
    last = failure;
  }
}

/** The replica that may be asked soonest; among equals, the first in the call's order. */
function soonest(order: readonly number[], notBefore: ReadonlyMap<number, number>): number {
  let best = order[0] ?? 0;
  for (const index of order) if ((notBefore.get(index) ?? 0) < (notBefore.get(best) ?? 0)) best = index;
  return best;
}

async function currentToken(token: TokenSource | undefined): Promise<string | undefined> {
  return typeof token === 'function' ? await token() : token;
}

function deadlineExceeded(attempts: number, last: RkmsError | undefined): RkmsError {
  return new RkmsError({
    errorType: 'DeadlineExceeded',
    message: `no answer before the call's deadline${last ? `; last: ${last.message}` : ''}`,
    url: last?.url,
    retryable: true,
    attempts,
    cause: last,
  });
}
