import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AllCandidatesFailed, firstAnswer, type Candidate } from '../../src/resilience/hedge.js';
import { HedgeBudget } from '../../src/resilience/hedge-budget.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A candidate that answers (or fails) after `ms`, and records whether it was aborted. */
function candidate(name: string, ms: number, outcome: 'ok' | 'fail' = 'ok') {
  const record = { started: false, aborted: false };
  const c: Candidate<string> = {
    name,
    run: (signal) =>
      new Promise((resolve, reject) => {
        record.started = true;
        const timer = setTimeout(() => {
          if (outcome === 'ok') resolve(name);
          else reject(new Error(`${name} failed`));
        }, ms);
        signal.addEventListener('abort', () => {
          record.aborted = true;
          clearTimeout(timer);
          reject(new Error(`${name} aborted`));
        });
      }),
  };
  return { c, record };
}

describe('firstAnswer', () => {
  it('asks one candidate when it answers in time', async () => {
    const a = candidate('a', 10);
    const b = candidate('b', 10);
    const answer = firstAnswer([a.c, b.c], { hedgeAfterMs: 100 });
    await vi.advanceTimersByTimeAsync(10);
    expect(await answer).toMatchObject({ name: 'a', hedged: false, failures: [] });
    expect(b.record.started).toBe(false);
  });

  it('falls back at once on failure and reports the failure', async () => {
    const a = candidate('a', 5, 'fail');
    const b = candidate('b', 10);
    const answer = firstAnswer([a.c, b.c], { hedgeAfterMs: 0 });
    await vi.advanceTimersByTimeAsync(15);
    const result = await answer;
    expect(result.name).toBe('b');
    expect(result.failures).toHaveLength(1);
  });

  it('hedges when the first is slow, takes the first answer and aborts the other', async () => {
    const a = candidate('a', 1_000);
    const b = candidate('b', 10);
    const onHedge = vi.fn();
    const answer = firstAnswer([a.c, b.c], { hedgeAfterMs: 100, onHedge });
    await vi.advanceTimersByTimeAsync(110);
    expect(await answer).toMatchObject({ name: 'b', hedged: true });
    expect(a.record.aborted).toBe(true);
    expect(onHedge).toHaveBeenCalledWith('b');
  });

  it('does not hedge when the budget is spent: waits for the first', async () => {
    const budget = new HedgeBudget({ percent: 0, floor: 0, windowMs: 10_000, clock: () => 0 });
    const a = candidate('a', 1_000);
    const b = candidate('b', 10);
    const answer = firstAnswer([a.c, b.c], { hedgeAfterMs: 100, budget });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await answer).toMatchObject({ name: 'a' });
    expect(b.record.started).toBe(false);
  });

  it('gives up after maxFailures', async () => {
    const a = candidate('a', 1, 'fail');
    const b = candidate('b', 1, 'fail');
    const c = candidate('c', 1);
    const answer = firstAnswer([a.c, b.c, c.c], { hedgeAfterMs: 0, maxFailures: 2 });
    const settled = expect(answer).rejects.toBeInstanceOf(AllCandidatesFailed);
    await vi.advanceTimersByTimeAsync(5);
    await settled;
    expect(c.record.started).toBe(false);
  });

  it('stops every candidate and starts no new one when the deadline passes', async () => {
    const a = candidate('a', 10_000);
    const b = candidate('b', 10_000);
    const deadline = new AbortController();
    const answer = firstAnswer([a.c, b.c], { hedgeAfterMs: 100, signal: deadline.signal });
    const settled = expect(answer).rejects.toBeInstanceOf(AllCandidatesFailed);
    await vi.advanceTimersByTimeAsync(150);
    deadline.abort();
    await settled;
    expect(a.record.aborted && b.record.aborted).toBe(true);
  });

  it('hands late answers to discard, so key material can be wiped', async () => {
    const discard = vi.fn();
    const slow: Candidate<string> = {
      name: 'slow',
      run: () =>
        new Promise((r) =>
          setTimeout(() => {
            r('late');
          }, 500),
        ),
    };
    const fast = candidate('fast', 10);
    const answer = firstAnswer([slow, fast.c], { hedgeAfterMs: 100, discard });
    await vi.advanceTimersByTimeAsync(600);
    expect((await answer).name).toBe('fast');
    expect(discard).toHaveBeenCalledWith('late');
  });
});
