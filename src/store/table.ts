import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { Logger } from 'pino';
import type { DynamoDbConfig } from '../config/schema.js';
import { awsRequestHandler } from '../resilience/aws-http.js';
import { classifyAwsError, logDetail } from '../resilience/failures.js';
import { StoreUnavailableError } from './store.js';

/**
 * Creates the table (hash key `id`, on-demand capacity) when it does not exist.
 * Production tables come from terraform/; this is for the embedded store and tests.
 */
export async function ensureTable(
  config: Pick<DynamoDbConfig, 'region' | 'endpoint' | 'table_name' | 'timeout_ms' | 'connect_timeout_ms'>,
  {
    credentials,
    logger,
  }: { credentials?: AwsCredentialIdentity | undefined; logger?: Logger | undefined } = {},
): Promise<void> {
  const client = new DynamoDBClient({
    region: config.region,
    requestHandler: awsRequestHandler(config),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
  const TableName = config.table_name;
  try {
    try {
      await client.send(new DescribeTableCommand({ TableName }));
      return;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw unavailable('describe the table', err);
    }
    logger?.info({ table: TableName }, 'creating the DynamoDB table');
    try {
      await client.send(
        new CreateTableCommand({
          TableName,
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (err) {
      // Another replica may have created it in the meantime.
      if ((err as Error).name !== 'ResourceInUseException') throw unavailable('create the table', err);
    }
    await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName });
  } finally {
    client.destroy();
  }
}

function unavailable(what: string, err: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`could not ${what}: ${classifyAwsError(err).reason}`, logDetail(err), {
    cause: err,
  });
}
