import { describe, expect, it } from 'vitest';
import { HedgeBudget } from '../../src/resilience/hedge-budget.js';

describe('HedgeBudget', () => {
  it('allows the floor plus a share of the calls in the window, then refuses', () => {
    const clock = { now: 0 };
    const budget = new HedgeBudget({ percent: 20, floor: 2, windowMs: 10_000, clock: () => clock.now });
    for (let i = 0; i < 10; i++) budget.recordCall();
    // 2 + 20% of 10 calls = 4 hedges.
    expect([1, 2, 3, 4, 5].map(() => budget.trySpend())).toEqual([true, true, true, true, false]);
    for (let i = 0; i < 5; i++) budget.recordCall();
    expect(budget.trySpend()).toBe(true);
    expect(budget.trySpend()).toBe(false);
  });

  it('refills as old calls and hedges leave the window', () => {
    const clock = { now: 0 };
    const budget = new HedgeBudget({ percent: 0, floor: 1, windowMs: 1_000, clock: () => clock.now });
    expect(budget.trySpend()).toBe(true);
    expect(budget.trySpend()).toBe(false);
    clock.now += 1_001;
    expect(budget.trySpend()).toBe(true);
  });

  it('allows no hedge at all with a zero floor and share', () => {
    const budget = new HedgeBudget({ percent: 0, floor: 0, windowMs: 1_000, clock: () => 0 });
    budget.recordCall();
    expect(budget.trySpend()).toBe(false);
  });
});
