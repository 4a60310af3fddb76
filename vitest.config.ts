import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Every test writes its log lines, and the keys it was handed, under this directory;
 * the audit project runs after all tests and fails if any key appears in any log line.
 */
const auditDir = process.env.RKMS_TEST_AUDIT_DIR ?? mkdtempSync(path.join(tmpdir(), 'rkms-test-audit-'));
process.env.RKMS_TEST_AUDIT_DIR = auditDir;

export default defineConfig({
  test: {
    // Child processes and native modules (dynalite's leveldb) behave best in forks.
    pool: 'forks',
    // Vitest's default is one worker per CPU but one; on a 2-core machine that runs one file at
    // a time, while the slowest files mostly wait on processes they start (rkms, npm, the AWS CLI).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    provide: { auditDir },
    // The tests run on Node 20 too; the SDK's notice that it will soon need Node 22 is noise here.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      { extends: true, test: { name: 'tests', include: ['test/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: { name: 'log-audit', include: ['test/**/*.audit.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
