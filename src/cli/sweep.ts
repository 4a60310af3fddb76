import { Command } from 'commander';
import { configPathFrom } from '../config/load.js';
import { createLogger } from '../config/logging.js';
import { createService } from './compose.js';
import { startEmbedded } from './embedded.js';
import { loadConfigOrExit } from './serve.js';

/** `rkms sweep`: destroys every key whose deletion date has passed, then exits (for a cron job). */
export function sweepCommand(): Command {
  return new Command('sweep')
    .description('destroy every key whose deletion date has passed, then exit')
    .option('-c, --config <path>', 'config file (default: $RKMS_CONFIG, else ./config.toml)')
    .action(async (options: { config?: string }) => {
      const config = await loadConfigOrExit(configPathFrom(options.config, process.env));
      const logger = createLogger(config.logger.level);
      const embedded =
        config.embedded.kms || config.embedded.dynamodb ? await startEmbedded(config, logger) : undefined;
      const service = await createService(config, logger, embedded?.endpoints);
      try {
        const purged = await service.keys.sweep();
        process.stdout.write(`deleted ${purged.length} key(s) whose deletion date had passed\n`);
        for (const id of purged) process.stdout.write(`  ${JSON.stringify(id)}\n`);
      } finally {
        await service.close();
        await embedded?.close();
      }
    });
}
