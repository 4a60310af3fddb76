import { describe, expect, it } from 'vitest';
import { compileIdPattern } from '../../src/auth/id-pattern.js';

describe('id patterns', () => {
  it.each([
    ['billing/*', 'billing/42', true],
    ['billing/*', 'billing/', true],
    ['billing/*', 'billing/a/b/c', true],
    ['billing/*', 'billing', false],
    ['billing/*', 'xbilling/42', false],
    ['shared-report', 'shared-report', true],
    ['shared-report', 'shared-report-2', false],
    ['shared-report', 'Shared-report', false],
    ['*', 'anything at all', true],
    ['tenant-?', 'tenant-7', true],
    ['tenant-?', 'tenant-🔑', true],
    ['tenant-?', 'tenant-77', false],
    ['*-*-2026', 'a-b-2026', true],
    ['*-*-2026', 'a-2026', false],
    ['a*b*c', 'a--b--b--c', true],
    ['a*b*c', 'a--c--b', false],
    ['**', '', true],
    ['[x]{y}', '[x]{y}', true],
    ['literal\\*', 'literal*', true],
    ['literal\\*', 'literally', false],
    ['what\\?', 'what?', true],
    ['what\\?', 'whatx', false],
  ])('%s matches %j: %s', (pattern, id, expected) => {
    expect(compileIdPattern(pattern)(id)).toBe(expected);
  });

  it('stays fast on patterns with many stars against long ids', () => {
    const matches = compileIdPattern(`${'*a'.repeat(30)}*b`);
    const started = performance.now();
    expect(matches('a'.repeat(512))).toBe(false);
    // Exponential backtracking would take far longer than the test's timeout; linear-ish is instant.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
