import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { Config } from '../config/schema.js';
import { buildApp } from '../http/app.js';
import { KeyCache } from '../keys/cache.js';
import { KeyService, type Clock } from '../keys/service.js';
import { startSweeper } from '../keys/sweeper.js';
import { regionalKmsFromConfig, type RegionalKms } from '../kms/pool.js';
import { DynamoStore } from '../store/dynamodb.js';
import { ensureTable } from '../store/table.js';

/** Where the embedded parts listen, when they run; they replace the configured endpoints. */
export interface EmbeddedEndpoints {
  kms?: string;
  dynamodb?: string;
  credentials?: AwsCredentialIdentity;
}

export interface Service {
  app: FastifyInstance;
  keys: KeyService;
  store: DynamoStore;
  kms: RegionalKms;
  close(): Promise<void>;
}

/** Builds the whole service from its config: store, KMS regions, cache, key service, HTTP app. */
export async function createService(
  config: Config,
  logger: Logger,
  embedded: EmbeddedEndpoints = {},
  clock?: Clock,
): Promise<Service> {
  const credentials = embedded.credentials;
  const store = new DynamoStore({
    config: embedded.dynamodb ? { ...config.dynamodb, endpoint: embedded.dynamodb } : config.dynamodb,
    ...(embedded.dynamodb && credentials ? { credentials } : {}),
  });
  if (config.dynamodb.create_table || embedded.dynamodb) {
    await ensureTable(store.homeClient, config.dynamodb.table_name, logger);
  }
  const kms = regionalKmsFromConfig({
    config: config.kms,
    logger,
    ...(embedded.kms ? { endpoint: embedded.kms } : {}),
    ...(embedded.kms && credentials ? { credentials } : {}),
  });
  const cache = new KeyCache({
    ttlMs: config.cache.ttl_seconds * 1000,
    maxEntries: config.cache.max_entries,
  });
  const keys = new KeyService({
    store,
    kms,
    cache,
    dataKeyBytes: config.kms.data_key_size_in_bytes,
    deletionWindowDays: config.keys.deletion_window_days,
    logger,
    ...(clock ? { clock } : {}),
  });
  const app = await buildApp({ keys, store, kms, logger, apiVersion: config.server.api_version });
  const sweeper = startSweeper(keys, config.keys.sweep_interval_minutes * 60_000, logger);
  return {
    app,
    keys,
    store,
    kms,
    async close() {
      sweeper?.stop();
      await app.close();
      cache.clear();
      kms.close();
      store.close();
    },
  };
}
