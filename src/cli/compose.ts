import type { AwsCredentialIdentity } from '@smithy/types';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { buildApp } from '../http/app.js';
import { KeyCache } from '../keys/cache.js';
import { Repairer } from '../keys/repair.js';
import { KeyService } from '../keys/service.js';
import { startSweeper } from '../keys/sweeper.js';
import { regionalKmsFromConfig } from '../kms/from-config.js';
import type { RegionalKms } from '../kms/regional-kms.js';
import { systemClock, type Clock } from '../resilience/clock.js';
import { DynamoStore } from '../store/dynamodb.js';
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
  store: DynamoStore;
  kms: RegionalKms;
  repairer: Repairer;
  close(): Promise<void>;
}

export interface Service extends KeyParts {
  app: FastifyInstance;
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
  const storeConfig = embedded.dynamodb
    ? { ...config.dynamodb, endpoint: embedded.dynamodb }
    : config.dynamodb;
  const storeCredentials = embedded.dynamodb ? credentials : undefined;
  if (config.dynamodb.create_table) await ensureTable(storeConfig, { credentials: storeCredentials, logger });
  const store = new DynamoStore({ config: storeConfig, clock, credentials: storeCredentials, logger });
  const kms = regionalKmsFromConfig({
    config: config.kms,
    clock,
    logger,
    endpoint: embedded.kms,
    credentials: embedded.kms ? credentials : undefined,
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
  });
  return {
    keys,
    store,
    kms,
    repairer,
    async close() {
      await repairer.settled();
      cache.close();
      kms.close();
      store.close();
    },
  };
}

/** The whole service: the key parts behind the HTTP app, plus the periodic sweep. */
export async function createService(
  config: Config,
  logger: Logger,
  embedded: EmbeddedEndpoints = {},
  clock: Clock = systemClock,
): Promise<Service> {
  const security = await createSecurity(config, logger);
  let parts: KeyParts;
  let app: FastifyInstance;
  try {
    parts = await createKeyParts(config, logger, embedded, clock);
    app = await buildApp({
      keys: parts.keys,
      store: parts.store,
      kms: parts.kms,
      logger,
      apiVersion: config.server.api_version,
      security: httpSecurityFrom(config, security),
    });
  } catch (err) {
    await security.close();
    throw err;
  }
  const sweeper = startSweeper(parts.keys, config.keys.sweep_interval_minutes * 60_000, logger);
  return {
    ...parts,
    app,
    security,
    async close() {
      sweeper?.stop();
      await app.close();
      await parts.close();
      await security.close();
    },
  };
}
