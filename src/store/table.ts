import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { Logger } from 'pino';
import { describeAwsError } from '../config/aws.js';
import { StoreUnavailableError } from './store.js';

/**
 * Creates the table (hash key `id`, on-demand capacity) when it does not exist.
 * Production tables come from terraform/; this is for the embedded store and tests.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string, logger?: Logger): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) {
      throw new StoreUnavailableError(`DynamoDB table ${tableName}`, describeAwsError(err), { cause: err });
    }
  }
  logger?.info({ table: tableName }, 'creating the DynamoDB table');
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (err) {
    // Another replica may have created it in the meantime.
    if ((err as Error).name !== 'ResourceInUseException') {
      throw new StoreUnavailableError(`DynamoDB table ${tableName}`, describeAwsError(err), { cause: err });
    }
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
}
