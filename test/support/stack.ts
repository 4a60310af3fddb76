import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from 'pino';
import type { Config } from '../../src/config/schema.js';
import { createKeyParts, createService, type KeyParts, type Service } from '../../src/cli/compose.js';
import { EMBEDDED_CREDENTIALS, ensureEmbeddedKeys } from '../../src/cli/embedded.js';
import { startLocalKms, type LocalKms } from '../../src/localkms/index.js';
import type { Clock } from '../../src/resilience/clock.js';
import pino from 'pino';
import { loggerOptions } from '../../src/config/logging.js';
import { auditLogStream, auditTrailPath } from './audit.js';
import { startDynalite, type RunningDynalite } from './dynalite.js';

export interface RunningService {
  service: Service;
  url: string;
}

/** Direct access to the table, as an operator (or an attacker) with DynamoDB rights would have. */
export interface Table {
  item(id: string): Promise<Record<string, unknown> | undefined>;
  put(item: Record<string, unknown>): Promise<void>;
  /** Sets one region's entry of an item's `keys` map, bypassing RKMS. */
  setCopy(id: string, region: string, value: string): Promise<void>;
  /** Removes one region's entry of an item's `keys` map, bypassing RKMS. */
  removeCopy(id: string, region: string): Promise<void>;
}

export interface Stack {
  config: Config;
  kms: LocalKms;
  dynalite: RunningDynalite;
  logger: Logger;
  /** The file the services' log lines go to (under the audit directory). */
  logFile: string;
  table: Table;
  /** Starts one more RKMS replica on the same store and KMS. */
  startService(overrides?: Partial<Config>, clock?: Clock): Promise<RunningService>;
  /** The key service and its parts, without HTTP, on the same store and KMS. */
  keyParts(overrides?: Partial<Config>, clock?: Clock): Promise<KeyParts>;
  close(): Promise<void>;
}

/** The real parts over real HTTP: dynalite, the local KMS (in memory), and RKMS replicas. */
export async function startStack(config: Config, label: string): Promise<Stack> {
  // The service's real logger configuration (with its redaction) at the most verbose level.
  const logStream = auditLogStream(label);
  const logger = pino({ ...loggerOptions('trace') }, logStream);
  const dynalite = await startDynalite();
  const kms = await startLocalKms({ regions: config.kms.regions, port: 0, logger });
  await ensureEmbeddedKeys(config, kms.url);
  const endpoints = { kms: kms.url, dynamodb: dynalite.endpoint, credentials: EMBEDDED_CREDENTIALS };
  const closers: (() => Promise<void>)[] = [];
  // The shared table is created by the first part that starts; a test that points a part
  // at another store endpoint (a broken one) gets no table creation and no embedded store.
  const withTable = (overrides: Partial<Config>): Config => ({
    ...config,
    ...overrides,
    dynamodb: { ...config.dynamodb, ...overrides.dynamodb, create_table: !overrides.dynamodb?.endpoint },
    // Each replica's audit trail goes where the log audit reads it, unless the test chose a path.
    audit: { path: overrides.audit?.path ?? config.audit.path ?? auditTrailPath(label) },
  });
  const endpointsFor = (overrides: Partial<Config>) =>
    overrides.dynamodb?.endpoint ? { ...endpoints, dynamodb: overrides.dynamodb.endpoint } : endpoints;
  const raw = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynalite.endpoint,
      credentials: EMBEDDED_CREDENTIALS,
    }),
  );
  const TableName = config.dynamodb.table_name;
  return {
    config,
    kms,
    dynalite,
    logger,
    logFile: String(logStream.path),
    table: {
      item: async (id) =>
        (await raw.send(new GetCommand({ TableName, Key: { id }, ConsistentRead: true }))).Item,
      put: async (item) => {
        await raw.send(new PutCommand({ TableName, Item: item }));
      },
      setCopy: async (id, region, value) => {
        await raw.send(
          new UpdateCommand({
            TableName,
            Key: { id },
            UpdateExpression: 'SET #keys.#region = :value',
            ExpressionAttributeNames: { '#keys': 'keys', '#region': region },
            ExpressionAttributeValues: { ':value': value },
          }),
        );
      },
      removeCopy: async (id, region) => {
        await raw.send(
          new UpdateCommand({
            TableName,
            Key: { id },
            UpdateExpression: 'REMOVE #keys.#region',
            ExpressionAttributeNames: { '#keys': 'keys', '#region': region },
          }),
        );
      },
    },
    async startService(overrides = {}, clock) {
      const service = await createService(withTable(overrides), logger, endpointsFor(overrides), clock);
      closers.push(() => service.close());
      await service.app.listen({ host: '127.0.0.1', port: 0 });
      service.lifecycle.serving();
      return { service, url: `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}` };
    },
    async keyParts(overrides = {}, clock) {
      const parts = await createKeyParts(withTable(overrides), logger, endpointsFor(overrides), clock);
      closers.push(() => parts.close());
      return parts;
    },
    async close() {
      for (const close of closers.reverse()) await close();
      raw.destroy();
      await kms.close();
      await dynalite.close();
    },
  };
}
