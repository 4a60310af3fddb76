import { Command } from 'commander';
import type { Logger } from 'pino';
import { createLogger } from '../config/logging.js';
import type { Config } from '../config/schema.js';
import { createService, type Service } from './compose.js';
import { startEmbedded, type Embedded } from './embedded.js';
import { loadConfigOrExit } from './key-parts.js';

export interface RunningServer {
  url: string;
  /** Where the gRPC server listens (`host:port`), when `[grpc] port` is set. */
  grpcAddress?: string;
  service: Service;
  /** What the embedded default started, one line each. */
  embedded: string[];
  stop(): Promise<void>;
}

/** Starts everything the config asks for (embedded parts, then the service) and listens. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  let embedded: Embedded | undefined;
  if (config.embedded.kms || config.embedded.dynamodb) {
    logger.warn(
      'embedded mode: the local KMS and store keep key material on this disk; use it to try RKMS and for tests, never in production',
    );
    embedded = await startEmbedded(config, logger);
  }
  let service: Service | undefined;
  let grpcAddress: string | undefined;
  try {
    service = await createService(config, logger, embedded?.endpoints);
    await service.app.listen({ host: config.server.host, port: config.server.port });
    if (service.grpc && config.grpc.port !== undefined) {
      grpcAddress = await service.grpc.listen(config.grpc.host ?? config.server.host, config.grpc.port);
    }
  } catch (err) {
    await service?.close();
    await embedded?.close();
    throw err;
  }
  const address = service.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const url = `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`;
  const running = service;
  return {
    url,
    ...(grpcAddress ? { grpcAddress } : {}),
    service: running,
    embedded: embedded?.summary ?? [],
    async stop() {
      await running.close();
      await embedded?.close();
    },
  };
}

function banner(url: string, grpcAddress: string | undefined, config: Config, parts: string[]): string {
  const lines = [
    `RKMS listening on ${url}`,
    ...(grpcAddress ? [`  gRPC: ${grpcAddress} (rkms.v1.Rkms, grpc.health.v1.Health, reflection)`] : []),
    `  KMS regions: ${config.kms.regions.map((r) => `${r} (${config.kms.key_ids[r]})`).join(', ')}`,
    `  store: DynamoDB table ${config.dynamodb.table_name} in ${config.dynamodb.region}`,
    ...parts.map((p) => `  embedded: ${p}`),
    '',
    'Try it:',
    `  curl '${url}/key?id=my-first-key'`,
    ...(grpcAddress
      ? [`  grpcurl -plaintext -d '{"id":"my-first-key"}' ${grpcAddress} rkms.v1.Rkms/GetKey`]
      : []),
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
        process.exit(1);
      }
      // Before the banner: whoever reads it may signal at once, and an unhandled SIGINT kills outright.
      stopOnSignals(server, logger);
      process.stdout.write(banner(server.url, server.grpcAddress, config, server.embedded));
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
