import type { Logger } from 'pino';
import { ConfigError, configPathFrom, loadConfigFile } from '../config/load.js';
import { createLogger } from '../config/logging.js';
import type { Config } from '../config/schema.js';
import { createKeyParts, type KeyParts } from './compose.js';
import { startEmbedded } from './embedded.js';
import { failureLine } from './failure-line.js';

/**
 * What every command shares: failures become one line on stderr and an exit code, never
 * a stack trace. 2 for a config to fix, 1 for anything else.
 */
export function exitWith(command: string, message: string, code = 1): never {
  process.stderr.write(`rkms ${command}: ${message}\n`);
  process.exit(code);
}

export async function loadConfigOrExit(command: string, flag: string | undefined): Promise<Config> {
  const configPath = configPathFrom(flag, process.env);
  const warnings: string[] = [];
  try {
    const config = await loadConfigFile(configPath, process.env, (warning) => warnings.push(warning));
    for (const warning of warnings) process.stderr.write(`rkms ${command}: warning: ${warning}\n`);
    return config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    exitWith(command, `invalid configuration: ${err.message}`, 2);
  }
}

/**
 * Runs `work` with the key service's parts (and the embedded KMS and store when the config
 * asks for them), closing everything afterwards. Only what the command needs is built:
 * no HTTP server.
 */
export async function withKeyParts<T>(
  command: string,
  config: Config,
  work: (parts: KeyParts, logger: Logger) => Promise<T>,
): Promise<T> {
  const logger = createLogger(config.logger.level);
  const embedded =
    config.embedded.kms || config.embedded.dynamodb
      ? await startEmbedded(config, logger).catch((err: unknown) =>
          exitWith(command, `could not start the embedded KMS or store: ${messageOf(err)}`),
        )
      : undefined;
  let failure: unknown;
  try {
    const parts = await createKeyParts(config, logger, embedded?.endpoints);
    try {
      return await work(parts, logger);
    } finally {
      await parts.close();
    }
  } catch (err) {
    failure = err;
  } finally {
    // Closed before exiting: the embedded local KMS writes its store and releases its lock.
    await embedded?.close();
  }
  return exitWith(command, failureLine(failure, config));
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
