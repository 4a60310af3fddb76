import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EMBEDDED_CREDENTIALS } from '../../src/cli/embedded.js';
import { testConfig } from '../support/config.js';
import { getKey } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
const config = testConfig();

beforeAll(async () => {
  stack = await startStack(config, 'race');
});
afterAll(async () => {
  await stack.close();
});

it('hands every one of 200 concurrent callers on two replicas the same new key, and stores one item', async () => {
  const replicas = [await stack.startService(), await stack.startService()];
  stack.kms.resetCounters();

  const replies = await Promise.all(
    Array.from({ length: 200 }, (_, i) => getKey(replicas[i % 2]?.url ?? '', 'brand-new-id')),
  );
  expect(replies.map((r) => r.status)).toEqual(Array(200).fill(200));
  expect(new Set(replies.map((r) => r.body.key)).size).toBe(1);

  const raw = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: stack.dynalite.endpoint,
      credentials: EMBEDDED_CREDENTIALS,
    }),
  );
  const { Items } = await raw.send(new ScanCommand({ TableName: config.dynamodb.table_name }));
  raw.destroy();
  expect(Items?.map((i) => i.id as string)).toEqual(['brand-new-id']);

  // Single-flight: each replica generated at most once, whatever the number of callers;
  // and the conditional put let exactly one of them store its key.
  const figures = await Promise.all(
    replicas.map(async ({ url }) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
      return {
        generated: value(/^rkms_kms_calls_total\{[^}]*operation="GenerateDataKey",outcome="ok"\} (\d+)/m),
        created: value(/^rkms_keys_created_total (\d+)/m),
      };
    }),
  );
  for (const { generated } of figures) expect(generated).toBeLessThanOrEqual(1);
  expect(figures.reduce((sum, f) => sum + f.created, 0)).toBe(1);
});
