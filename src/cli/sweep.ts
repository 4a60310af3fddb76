import { Command } from 'commander';
import { loadConfigOrExit, withKeyParts } from './key-parts.js';

/** `rkms sweep`: destroys every key whose deletion date has passed, then exits (for a cron job). */
export function sweepCommand(): Command {
  return new Command('sweep')
    .description('destroy every key whose deletion date has passed, then exit')
    .option('-c, --config <path>', 'config file (default: $RKMS_CONFIG, else ./config.toml)')
    .action(async (options: { config?: string }) => {
      const config = await loadConfigOrExit('sweep', options.config);
      const destroyed = await withKeyParts('sweep', config, (parts) => parts.keys.sweep());
      process.stderr.write(`deleted ${destroyed.length} key(s) whose deletion date had passed\n`);
      for (const id of destroyed) process.stderr.write(`  ${JSON.stringify(id)}\n`);
      process.stdout.write(`${JSON.stringify({ destroyed })}\n`);
    });
}
