import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../src/cli/repair.js';
import type { ScanSummary } from '../../src/keys/repair-scan.js';

const summary = (scanned: number, repaired = 0, failed = 0): ScanSummary => ({
  scanned,
  complete: scanned - repaired,
  deleted: 0,
  repaired: repaired > 0 ? { 'us-west-2': repaired } : {},
  damaged: 0,
  rewrapped: 0,
  failed: Array.from({ length: failed }, (_, i) => ({ id: `bad-${i}`, reason: 'x' })),
});

/** `rkms repair`'s progress as a log file or a CI job sees it: no terminal. */
function lines(estimate: number | undefined) {
  const written: string[] = [];
  const clock = { now: 0 };
  const progress = progressReporter({ isTTY: false, write: (text: string) => written.push(text) }, estimate, {
    clock: () => clock.now,
    intervalMs: 5_000,
  });
  return { written, clock, progress };
}

describe('rkms repair progress without a terminal', () => {
  it('writes one line per interval, however often the scan reports, with the table size estimate', () => {
    const { written, clock, progress } = lines(1_000);
    progress.update(summary(10));
    clock.now = 4_999;
    progress.update(summary(20));
    expect(written).toEqual([]);
    clock.now = 5_000;
    progress.update(summary(30, 3, 1));
    clock.now = 9_000;
    progress.update(summary(40, 3, 1));
    clock.now = 10_000;
    progress.update(summary(50, 4, 1));
    expect(written).toEqual([
      'repair: 30 of about 1000 items scanned, 3 copies repaired, 1 failed\n',
      'repair: 50 of about 1000 items scanned, 4 copies repaired, 1 failed\n',
    ]);
    progress.stop();
  });

  it('leaves the size out when the store gave no estimate', () => {
    const { written, clock, progress } = lines(undefined);
    clock.now = 5_000;
    progress.update(summary(7));
    expect(written).toEqual(['repair: 7 items scanned, 0 copies repaired, 0 failed\n']);
  });
});
