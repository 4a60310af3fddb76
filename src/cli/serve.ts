import { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import { lineOutput } from '../config/line-output.js';
import { createLogger } from '../config/logging.js';
import type { Config } from '../config/schema.js';
import { hostPolicyFor } from '../shared/hosts.js';
import { serverLimitsOf } from '../http/security/index.js';
import { startMetricsServer, type MetricsServer } from '../metrics/server.js';
import { createService, type Service } from './compose.js';
import { startEmbedded, type Embedded } from './embedded.js';
import { failureLine } from './failure-line.js';
import { avoidPretenuring } from './garbage-collector.js';
import { exitWith, loadConfigOrExit } from './key-parts.js';
import { checkExposure } from './security.js';
import { stopOnSignals } from './signals.js';

export interface RunningServer {
  url: string;
  /** Where `GET /metrics` answers when `[metrics] port` gives it a port of its own. */
  metricsUrl: string | undefined;
  /** Where the gRPC server listens (`host:port`), when `[grpc] port` is set. */
  grpcAddress: string | undefined;
  service: Service;
  /** What the embedded default started, one line each. */
  embedded: string[];
  /** Drains and stops everything; resolves once all is closed. */
  stop(): Promise<void>;
}

/** Starts everything the config asks for (embedded parts, then the service) and listens. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  checkExposure(config);
  let embedded: Embedded | undefined;
  if (config.embedded.kms || config.embedded.dynamodb) {
    logger.warn(
      'embedded mode: the local KMS and store keep key material on this disk; ' +
        'use it to try RKMS and for tests, never in production',
    );
    embedded = await startEmbedded(config, logger);
  }
  let service: Service | undefined;
  let metricsServer: MetricsServer | undefined;
  let grpcAddress: string | undefined;
  try {
    service = await createService(config, logger, embedded?.endpoints);
    await service.app.listen({ host: config.server.host, port: config.server.port });
    if (service.grpc && config.grpc.port !== undefined) {
      grpcAddress = await service.grpc.listen(config.grpc.host ?? config.server.host, config.grpc.port);
    }
    if (config.metrics.port !== undefined) {
      const host = config.metrics.host ?? config.server.host;
      metricsServer = await startMetricsServer({
        metrics: service.metrics,
        host,
        port: config.metrics.port,
        limits: serverLimitsOf(config.server),
        hostPolicy: hostPolicyFor(host, config.server.allowed_hosts),
        logger,
      });
    }
  } catch (err) {
    await service?.close();
    await embedded?.close();
    throw err;
  }
  const address = service.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const scheme = config.server.tls ? 'https' : 'http';
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `${scheme}://${host}:${port}`;
  const running = service;
  running.lifecycle.serving();
  return {
    url,
    metricsUrl: metricsServer?.url,
    grpcAddress,
    service: running,
    embedded: embedded?.summary ?? [],
    async stop() {
      await running.close();
      await metricsServer?.close();
      await embedded?.close();
    },
  };
}

function banner(server: RunningServer, config: Config): string {
  const regions = Object.entries(config.kms.key_ids).map(([region, keyId]) => `${region} (${keyId})`);
  const clients = config.auth.clients.length;
  const tls = config.server.tls !== undefined;
  const clientsLine =
    clients > 0
      ? `${clients} declared; every key request and gRPC call needs a token or a client certificate`
      : 'none declared; every caller is anonymous';
  const grpcServices = 'rkms.v1.Rkms, grpc.health.v1.Health, reflection';
  const grpcurl = [
    'grpcurl',
    ...(tls ? [] : ['-plaintext']),
    ...(clients > 0 ? ['-H "authorization: Bearer $RKMS_TOKEN"'] : []),
    `-d '{"id":"my-first-key"}' ${server.grpcAddress ?? ''} rkms.v1.Rkms/GetKey`,
  ];
  const lines = [
    `RKMS listening on ${server.url}`,
    ...(server.grpcAddress ? [`  gRPC${tls ? ' (TLS)' : ''}: ${server.grpcAddress} (${grpcServices})`] : []),
    `  KMS regions: ${regions.join(', ')}; new keys need ${config.kms.min_regions} of them`,
    `  store: DynamoDB table ${config.dynamodb.table_name} in ${config.dynamodb.region}`,
    ...(server.metricsUrl ? [`  metrics: ${server.metricsUrl}`] : []),
    ...server.embedded.map((p) => `  embedded: ${p}`),
    `  clients: ${clientsLine}`,
    `  audit trail: ${config.audit.path ?? 'stdout'}`,
    '',
    'Try it:',
    `  curl ${clients > 0 ? `-H "Authorization: Bearer $RKMS_TOKEN" ` : ''}'${server.url}/key?id=my-first-key'`,
    ...(server.grpcAddress ? [`  ${grpcurl.join(' ')}`] : []),
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
      '\nEnvironment: RKMS_CONFIG (config file), RKMS_PORT, RKMS_HOST, RKMS_LOG_LEVEL, RKMS_DATA_DIR ' +
        'override the file.' +
        '\nLogs are JSON lines on stdout, or on stderr while the audit trail takes stdout ([audit] path unset);' +
        '\nthe start banner goes to stderr.',
    )
    .action(async (options: { config?: string }) => {
      avoidPretenuring();
      const config = await loadConfigOrExit('serve', options.config);
      // The audit trail and the service log never share a stream: with the trail on stdout, the log takes stderr.
      const logger = createLogger(config.logger.level, lineOutput(config.audit.path === undefined ? 2 : 1));
      let server: RunningServer;
      try {
        server = await startServer(config, logger);
      } catch (err) {
        logger.fatal({ err }, 'RKMS could not start');
        exitWith('serve', `could not start: ${failureLine(err, config)}`, err instanceof ConfigError ? 2 : 1);
      }
      // The drain is bounded by shutdown_timeout_ms itself; the signals' bound is the last resort beyond it.
      stopOnSignals(() => server.stop(), config.server.shutdown_timeout_ms + 5_000, logger);
      // SIGHUP: new TLS certificates for new connections, the audit file reopened after rotation.
      process.on('SIGHUP', () => void server.service.security.reload());
      process.stderr.write(banner(server, config));
    });
}
