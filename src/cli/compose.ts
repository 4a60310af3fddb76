import type { AwsCredentialIdentity } from '@smithy/types';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { withCallMetrics } from '../grpc/call-metrics.js';
import { grpcSecurityFrom } from '../grpc/security/index.js';
import { createGrpcServer, type GrpcServer } from '../grpc/server.js';
import { grpcLimitsOf } from '../grpc/transport/limits.js';
import { buildApp } from '../http/app.js';
import { drain } from '../http/drain.js';
import { Lifecycle } from '../http/lifecycle.js';
import { keysUsable } from '../kms/key-usability.js';
import { KeyCache } from '../shared/key-cache.js';
import { Repairer } from '../keys/repair.js';
import { KeyService } from '../keys/service.js';
import { startSweeper } from '../keys/sweeper.js';
import { regionalKmsFromConfig } from '../kms/from-config.js';
import type { Kms } from '../kms/kms.js';
import { systemClock, type Clock } from '../resilience/clock.js';
import { Metrics } from '../metrics/metrics.js';
import { DynamoStore } from '../store/dynamodb.js';
import type { Store } from '../store/store.js';
import { ensureTable } from '../store/table.js';
import { httpSecurityFrom } from '../http/security/index.js';
import { createSecurity, type Security } from './security.js';

/** Where the embedded parts listen, when they run; they replace the configured endpoints. */
export interface EmbeddedEndpoints {
  kms?: string;
  dynamodb?: string;
  credentials?: AwsCredentialIdentity;
}

/** The key service and the parts it stands on: what `serve`, `sweep` and `repair` share. */
export interface KeyParts {
  keys: KeyService;
  store: Store;
  kms: Kms;
  repairer: Repairer;
  metrics: Metrics;
  close(): Promise<void>;
}

export interface Service extends KeyParts {
  app: FastifyInstance;
  lifecycle: Lifecycle;
  /** The gRPC server, when `[grpc] port` is set; not listening until told to. */
  grpc?: GrpcServer;
  /** Clients, audit trail, TLS and the refusals' events (for the metrics); `reload()` on SIGHUP. */
  security: Security;
}

/** Builds the store, the KMS regions, the cache, the repairer and the key service from the config. */
export async function createKeyParts(
  config: Config,
  logger: Logger,
  embedded: EmbeddedEndpoints = {},
  clock: Clock = systemClock,
): Promise<KeyParts> {
  const { credentials } = embedded;
  const metrics = new Metrics();
  const storeConfig = embedded.dynamodb
    ? { ...config.dynamodb, endpoint: embedded.dynamodb }
    : config.dynamodb;
  const storeCredentials = embedded.dynamodb ? credentials : undefined;
  if (config.dynamodb.create_table) await ensureTable(storeConfig, { credentials: storeCredentials, logger });
  const store = new DynamoStore({
    config: storeConfig,
    clock,
    credentials: storeCredentials,
    logger,
    onCall: metrics.onStoreCall,
  });
  const kms = regionalKmsFromConfig({
    config: config.kms,
    clock,
    logger,
    endpoint: embedded.kms,
    credentials: embedded.kms ? credentials : undefined,
    onCall: metrics.onKmsCall,
    onHedge: metrics.onHedge,
    onHedgeWon: metrics.onHedgeWon,
  });
  const cache = new KeyCache({
    ttlMs: config.cache.ttl_seconds * 1000,
    maxEntries: config.cache.max_entries,
    clock,
  });
  const repairer = new Repairer({
    store,
    kms,
    clock,
    concurrency: config.keys.repair_concurrency,
    timeoutMs: config.server.request_timeout_ms,
    logger,
    onRepaired: metrics.onRepaired,
    onIncomplete: metrics.onIncomplete,
  });
  const keys = new KeyService({
    store,
    kms,
    cache,
    repairer,
    dataKeyBytes: config.kms.data_key_size_in_bytes,
    deletionWindowDays: config.keys.deletion_window_days,
    requestTimeoutMs: config.server.request_timeout_ms,
    clock,
    logger,
    events: metrics.keyEvents,
  });
  metrics.watch({
    regions: () => kms.health(),
    storeCircuit: () => store.health.circuit,
    cacheSize: () => cache.size,
  });
  return {
    keys,
    store,
    kms,
    repairer,
    metrics,
    async close() {
      await repairer.settled();
      cache.close();
      kms.close();
      store.close();
    },
  };
}

/** The whole service: the key parts behind the HTTP app (and the gRPC server), plus the periodic sweep. */
export async function createService(
  config: Config,
  logger: Logger,
  embedded: EmbeddedEndpoints = {},
  clock: Clock = systemClock,
): Promise<Service> {
  const security = await createSecurity(config, logger);
  const parts = await createKeyParts(config, logger, embedded, clock).catch(async (err: unknown) => {
    await security.close();
    throw err;
  });
  let app: FastifyInstance;
  const lifecycle = new Lifecycle();
  try {
    app = await buildApp({
      keys: parts.keys,
      store: parts.store,
      kms: parts.kms,
      metrics: parts.metrics,
      lifecycle,
      logger,
      apiVersion: config.server.api_version,
      metricsRoute: config.metrics.port === undefined,
      security: httpSecurityFrom(config, security),
    });
  } catch (err) {
    // The parts' clients, timers and background repairs would otherwise outlive the failure.
    await parts.close();
    await security.close();
    throw err;
  }
  const unsubscribe = security.events.subscribe(parts.metrics.onSecurityEvent);
  const grpc =
    config.grpc.port === undefined
      ? undefined
      : createGrpcServer({
          keys: parts.keys,
          logger,
          // /readyz's rule: not while starting or draining, nor while no region's key is usable.
          serving: async () => lifecycle.phase === 'serving' && (await keysUsable(parts.kms)),
          shutdownTimeoutMs: config.grpc.shutdown_timeout_ms,
          limits: grpcLimitsOf(config),
          // The same clients, limits, audit trail and TLS as HTTP; every call in the metrics.
          ...withCallMetrics(grpcSecurityFrom(security), parts.metrics.onGrpcCall),
        });
  const sweeper = startSweeper(parts.keys, config.keys.sweep_interval_minutes * 60_000, logger);
  return {
    ...parts,
    app,
    lifecycle,
    ...(grpc ? { grpc } : {}),
    security,
    /** Drains the HTTP and gRPC servers (answering what is in flight), then closes the parts. */
    async close() {
      sweeper?.stop();
      await Promise.all([drain(app, lifecycle, config.server.shutdown_timeout_ms), grpc?.close()]);
      unsubscribe();
      await parts.close();
      await security.close();
    },
  };
}
