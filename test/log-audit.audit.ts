import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { auditDir } from './support/audit.js';

/**
 * Runs after every other test file (vitest.config.ts, project "log-audit"). The tests
 * wrote every log line of the run (services at level trace, the local KMS, the CLI's
 * output), every audit trail the services kept (`trail-*.log`), and every key they were
 * handed under the audit directory.
 */
it('shows no plaintext key in any log line of the whole test run', () => {
  const dir = auditDir();
  const files = readdirSync(dir);
  const keys = new Set(
    files
      .filter((f) => f.startsWith('keys-'))
      .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n'))
      .filter(Boolean),
  );
  // Audit trails are read like logs: a key must never reach an audit line either.
  const trails = files.filter((f) => f.startsWith('trail-') && f.endsWith('.log'));
  const auditLines = trails
    .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n'))
    .filter((line) => line.startsWith('{"type":"audit"'));
  const logs = files
    .filter((f) => f.endsWith('.log'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');

  const leaks: string[] = [];
  for (const key of keys) {
    const bytes = Buffer.from(key, 'base64');
    const head = [...bytes.subarray(0, 8)];
    const forms = [key, bytes.toString('base64url'), bytes.toString('hex')];
    // A Buffer or Uint8Array logged as JSON: {"type":"Buffer","data":[…]} or {"0":…,"1":…}.
    // Only for varied bytes, so a constant test plaintext cannot match by chance.
    if (new Set(head).size >= 6)
      forms.push(`[${head.join(',')}`, head.map((b, i) => `"${i}":${b}`).join(','));
    for (const form of forms) if (logs.includes(form)) leaks.push(form);
  }
  expect(leaks, `key material found in the logs under ${dir}`).toEqual([]);
  // And the audit had something to compare: the whole run hands out dozens of keys.
  expect(keys.size).toBeGreaterThan(30);
  expect(logs.split('\n').length).toBeGreaterThan(1000);
  expect(auditLines.length, 'audit lines under the audit directory').toBeGreaterThan(500);
  rmSync(dir, { recursive: true, force: true });
});
