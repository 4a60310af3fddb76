import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/resilience/circuit-breaker.js';

function breaker(changes: string[] = []) {
  const clock = { now: 1_000_000 };
  const circuit = new CircuitBreaker({
    failureRatePercent: 50,
    minimumCalls: 4,
    windowMs: 10_000,
    resetAfterMs: 5_000,
    clock: () => clock.now,
    onChange: ({ from, to, reason }) => changes.push(`${from}->${to}${reason ? ` (${reason})` : ''}`),
  });
  const fail = (n: number) => {
    for (let i = 0; i < n; i++) circuit.failure(circuit.acquire() ?? 'call');
  };
  const succeed = (n: number) => {
    for (let i = 0; i < n; i++) circuit.success(circuit.acquire() ?? 'call');
  };
  return { circuit, clock, fail, succeed, changes };
}

describe('CircuitBreaker', () => {
  it('opens when more than the failure rate of at least the minimum calls failed', () => {
    const { circuit, fail, succeed } = breaker();
    succeed(2);
    fail(2);
    expect(circuit.state).toBe('closed'); // 50% is not more than 50%
    fail(1);
    expect(circuit.state).toBe('open');
    expect(circuit.reason).toBe('failing');
    expect(circuit.acquire()).toBeUndefined();
  });

  it('does not open on fewer calls than the minimum, however many fail', () => {
    const { circuit, fail } = breaker();
    fail(3);
    expect(circuit.state).toBe('closed');
  });

  it('forgets outcomes older than the window', () => {
    const { circuit, clock, fail } = breaker();
    fail(3);
    clock.now += 10_001;
    fail(3);
    expect(circuit.state).toBe('closed');
  });

  it('lets exactly one probe through once the reset time has passed, and closes when it succeeds', () => {
    const { circuit, clock, fail, changes } = breaker();
    fail(4);
    clock.now += 4_999;
    expect(circuit.state).toBe('open');
    clock.now += 1;
    expect(circuit.state).toBe('half-open');
    expect(circuit.probeDue).toBe(true);
    expect(circuit.acquire()).toBe('probe');
    expect(circuit.acquire()).toBeUndefined(); // one probe at a time
    expect(circuit.probeDue).toBe(false);
    circuit.success('probe');
    expect(circuit.state).toBe('closed');
    expect(circuit.acquire()).toBe('call');
    expect(changes).toEqual(['closed->open (failing)', 'half-open->closed']);
  });

  it('opens again for another reset period when the probe fails', () => {
    const { circuit, clock, fail } = breaker();
    fail(4);
    clock.now += 5_000;
    circuit.failure(circuit.acquire() ?? 'call');
    expect(circuit.state).toBe('open');
    clock.now += 4_999;
    expect(circuit.state).toBe('open');
    clock.now += 1;
    expect(circuit.acquire()).toBe('probe');
  });

  it('hands the probe to the next caller when the probe was cancelled', () => {
    const { circuit, clock, fail } = breaker();
    fail(4);
    clock.now += 5_000;
    circuit.release(circuit.acquire() ?? 'call');
    expect(circuit.state).toBe('half-open');
    expect(circuit.acquire()).toBe('probe');
  });

  it('counts released calls neither way', () => {
    const { circuit, fail } = breaker();
    for (let i = 0; i < 10; i++) circuit.release(circuit.acquire() ?? 'call');
    fail(3);
    expect(circuit.state).toBe('closed');
  });

  it('opens at once when tripped by a misconfiguration, and says so', () => {
    const { circuit, clock, changes } = breaker();
    circuit.trip('misconfigured', circuit.acquire());
    expect(circuit.state).toBe('open');
    expect(circuit.reason).toBe('misconfigured');
    clock.now += 5_000;
    expect(circuit.acquire()).toBe('probe');
    circuit.trip('misconfigured', 'probe');
    expect(circuit.state).toBe('open');
    expect(changes).toEqual(['closed->open (misconfigured)', 'half-open->open (misconfigured)']);
  });
});
