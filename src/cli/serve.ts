import { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import { createLogger } from '../config/logging.js';
import type { Config } from '../config/schema.js';
import { createService, type Service } from './compose.js';
import { startEmbedded, type Embedded } from './embedded.js';
import { loadConfigOrExit } from './key-parts.js';
import { checkExposure } from './security.js';

export interface RunningServer {
  url: string;
  service: Service;
  /** What the embedded default started, one line each. */
  embedded: string[];
  stop(): Promise<void>;
}

/** Starts everything the config asks for (embedded parts, then the service) and listens. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  checkExposure(config);
  let embedded: Embedded | undefined;
  if (config.embedded.kms || config.embedded.dynamodb) {
    logger.warn(
      'embedded mode: the local KMS and store keep key material on this disk; use it to try RKMS and for tests, never in production',
    );
    embedded = await startEmbedded(config, logger);
  }
  let service: Service | undefined;
  try {
    service = await createService(config, logger, embedded?.endpoints);
    await service.app.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    await service?.close();
    await embedded?.close();
    throw err;
  }
  const address = service.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const scheme = config.server.tls ? 'https' : 'http';
  const url = `${scheme}://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`;
  const running = service;
  return {
    url,
    service: running,
    embedded: embedded?.summary ?? [],
    async stop() {
      await running.close();
      await embedded?.close();
    },
  };
}

function banner(url: string, config: Config, parts: string[]): string {
  const clients = config.auth.clients.length;
  const lines = [
    `RKMS listening on ${url}`,
    `  KMS regions: ${config.kms.regions.map((r) => `${r} (${config.kms.key_ids[r]})`).join(', ')}`,
    `  store: DynamoDB table ${config.dynamodb.table_name} in ${config.dynamodb.region}`,
    ...parts.map((p) => `  embedded: ${p}`),
    `  clients: ${clients > 0 ? `${clients} declared; every key request needs a token or a client certificate` : 'none declared; every caller is anonymous'}`,
    `  audit trail: ${config.audit.path ?? 'stdout'}`,
    '',
    'Try it:',
    `  curl ${clients > 0 ? `-H "Authorization: Bearer $RKMS_TOKEN" ` : ''}'${url}/key?id=my-first-key'`,
    '',
  ];
  return lines.join('\n');
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the key service (the default command)')
    .option('-c, --config <path>', 'config file (default: $RKMS_CONFIG, else ./config.toml)')
    .addHelpText(
      'after',
      '\nEnvironment: RKMS_CONFIG (config file), RKMS_PORT, RKMS_HOST, RKMS_LOG_LEVEL, RKMS_DATA_DIR override the file.',
    )
    .action(async (options: { config?: string }) => {
      const config = await loadConfigOrExit('serve', options.config);
      const logger = createLogger(config.logger.level);
      let server: RunningServer;
      try {
        server = await startServer(config, logger);
      } catch (err) {
        logger.fatal({ err }, 'RKMS could not start');
        process.stderr.write(`rkms: could not start: ${(err as Error).message}\n`);
        process.exit(err instanceof ConfigError ? 2 : 1);
      }
      // Before the banner: whoever reads it may signal at once, and an unhandled SIGINT kills outright.
      stopOnSignals(server, logger);
      // SIGHUP: new TLS certificates for new connections, the audit file reopened after rotation.
      process.on('SIGHUP', () => void server.service.security.reload());
      process.stdout.write(banner(server.url, config, server.embedded));
    });
}

function stopOnSignals(server: RunningServer, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
