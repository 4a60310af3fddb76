import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { repairTable, type ScanSummary } from '../keys/repair-scan.js';
import { exitWith, loadConfigOrExit, withKeyParts } from './key-parts.js';

interface RepairFlags {
  config?: string;
  dryRun?: boolean;
  verify?: boolean;
  rewrap?: boolean;
  concurrency: string;
}

/** Without a terminal, a progress line this often. */
const PROGRESS_LINE_MS = 5_000;

/** `rkms repair`: gives every key a good copy in every configured region, then exits. */
export function repairCommand(): Command {
  return new Command('repair')
    .description('give every key a good copy in every configured KMS region, then exit')
    .option('-c, --config <path>', 'config file (default: $RKMS_CONFIG, else ./config.toml)')
    .option('--dry-run', 'report what would be repaired; change nothing')
    .option('--verify', 'also decrypt every copy, to find and replace damaged ones')
    .option('--rewrap', "also re-encrypt copies made under a key other than their region's configured one")
    .option('--concurrency <n>', 'items worked on at once', '8')
    .addHelpText(
      'after',
      '\nExits 0 when every item is complete (or, with --dry-run, could be made so), 1 otherwise.' +
        '\nProgress and the summary go to stderr; the summary also goes to stdout as one JSON line.',
    )
    .action(async (flags: RepairFlags) => {
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        exitWith('repair', '--concurrency must be a whole number from 1 to 64', 2);
      }
      const config = await loadConfigOrExit('repair', flags.config);
      const options = {
        dryRun: flags.dryRun ?? false,
        verify: flags.verify ?? false,
        rewrap: flags.rewrap ?? false,
        concurrency,
      };
      const summary = await withKeyParts('repair', config, async (parts) => {
        const progress = progressReporter(process.stderr, await parts.store.approximateCount());
        try {
          return await repairTable(parts, options, progress.update);
        } finally {
          progress.stop();
        }
      });
      process.stderr.write(describe(summary, options.dryRun));
      process.stdout.write(`${JSON.stringify({ dryRun: options.dryRun, ...summary })}\n`);
      process.exitCode = summary.failed.length > 0 ? 1 : 0;
    });
}

export interface ProgressReporter {
  update: (summary: ScanSummary) => void;
  stop: () => void;
}

/**
 * A bar on a terminal; a line every few seconds otherwise (a log file, a CI job).
 * `estimate` is the store's idea of the table's size (DynamoDB refreshes it every few
 * hours): the bar's total, grown when the scan passes it.
 */
export function progressReporter(
  stream: NodeJS.WriteStream | { isTTY?: false; write(text: string): unknown },
  estimate: number | undefined,
  { clock = Date.now, intervalMs = PROGRESS_LINE_MS } = {},
): ProgressReporter {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format:
          estimate === undefined
            ? 'repair {value} items scanned · {repaired} repaired · {failed} failed'
            : 'repair |{bar}| {value} of about {total} items scanned · {repaired} repaired · {failed} failed',
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(estimate ?? 0, 1), 0, { repaired: 0, failed: 0 });
    return {
      update: (s) => {
        if (s.scanned > bar.getTotal()) bar.setTotal(s.scanned);
        bar.update(s.scanned, { repaired: totalRepaired(s), failed: s.failed.length });
      },
      stop: () => {
        bar.stop();
      },
    };
  }
  const of = estimate === undefined ? '' : ` of about ${estimate}`;
  let last = clock();
  return {
    update: (s) => {
      if (clock() - last < intervalMs) return;
      last = clock();
      stream.write(
        `repair: ${s.scanned}${of} items scanned, ${totalRepaired(s)} copies repaired, ${s.failed.length} failed\n`,
      );
    },
    stop: () => undefined,
  };
}

function totalRepaired(summary: ScanSummary): number {
  return Object.values(summary.repaired).reduce((sum, n) => sum + n, 0);
}

function describe(s: ScanSummary, dryRun: boolean): string {
  const verb = dryRun ? 'would repair' : 'repaired';
  const perRegion = Object.entries(s.repaired)
    .map(([region, n]) => `${region} ${n}`)
    .join(', ');
  const lines = [
    `${dryRun ? 'dry run: ' : ''}${s.scanned} items scanned: ${s.complete} complete, ${s.deleted} deleted`,
    `  ${verb}: ${perRegion || 'none'}`,
    `  damaged copies found: ${s.damaged}; ${dryRun ? 'would rewrap' : 'rewrapped'}: ${s.rewrapped}`,
    `  failed: ${s.failed.length}`,
    ...s.failed.slice(0, 20).map((f) => `    ${JSON.stringify(f.id)}: ${f.reason}`),
    ...(s.failed.length > 20
      ? [`    ... and ${s.failed.length - 20} more (see the JSON summary on stdout)`]
      : []),
  ];
  return `${lines.join('\n')}\n`;
}
