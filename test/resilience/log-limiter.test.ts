import { describe, expect, it } from 'vitest';
import { LogLimiter } from '../../src/resilience/log-limiter.js';

function fixture() {
  const clock = { now: 1_000_000 };
  return { limiter: new LogLimiter(60_000, () => clock.now), clock };
}

describe('LogLimiter', () => {
  it('lets the first line of a subject through, then holds the rest back for the interval', () => {
    const { limiter, clock } = fixture();
    expect(limiter.take('us-east-1')).toBe(0);
    for (let i = 0; i < 5; i++) {
      clock.now += 10_000;
      expect(limiter.take('us-east-1')).toBeUndefined();
    }
  });

  it('lets the next line through once the interval has passed, saying how many were held back', () => {
    const { limiter, clock } = fixture();
    limiter.take('us-east-1');
    limiter.take('us-east-1');
    limiter.take('us-east-1');
    clock.now += 59_999;
    expect(limiter.take('us-east-1')).toBeUndefined();
    clock.now += 1;
    expect(limiter.take('us-east-1')).toBe(3);
    // The count starts again with the line that went through.
    expect(limiter.take('us-east-1')).toBeUndefined();
    clock.now += 60_000;
    expect(limiter.take('us-east-1')).toBe(1);
  });

  it('limits each subject on its own', () => {
    const { limiter } = fixture();
    expect(limiter.take('us-east-1\u0000a')).toBe(0);
    expect(limiter.take('us-east-1\u0000b')).toBe(0);
    expect(limiter.take('us-west-1\u0000a')).toBe(0);
    expect(limiter.take('us-east-1\u0000a')).toBeUndefined();
  });
});
