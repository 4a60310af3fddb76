import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EMBEDDED_CREDENTIALS } from '../../src/cli/embedded.js';

/**
 * Moves a pending key's deletion date, as if its window had passed, straight in a running
 * RKMS's store (the embedded dynalite prints its address in the start banner).
 */
export async function setDeletionDate(endpoint: string, id: string, date: string, table = 'rkms_keys') {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', endpoint, credentials: EMBEDDED_CREDENTIALS }),
  );
  try {
    await client.send(
      new UpdateCommand({
        TableName: table,
        Key: { id },
        UpdateExpression: 'SET deletion_date = :date',
        ExpressionAttributeValues: { ':date': date },
      }),
    );
  } finally {
    client.destroy();
  }
}
