import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { auditDir } from './support/audit.js';

/**
 * Runs after every other test file (vitest.config.ts, project "log-audit"). The tests
 * wrote every log line of the run (services at level trace, the local KMS, the CLI's
 * output) and every key they were handed under the audit directory.
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
  const logs = files
    .filter((f) => f.endsWith('.log'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');

  // The audit is only meaningful if the run produced keys and logs to compare.
  expect(keys.size).toBeGreaterThan(20);
  expect(logs.split('\n').length).toBeGreaterThan(100);

  const leaks: string[] = [];
  for (const key of keys) {
    const bytes = Buffer.from(key, 'base64');
    const forms = [key, bytes.toString('base64url'), bytes.toString('hex'), [...bytes.subarray(0, 8)].join(',')];
    for (const form of forms) if (logs.includes(form)) leaks.push(form);
  }
  expect(leaks, `key material found in the logs under ${dir}`).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});
