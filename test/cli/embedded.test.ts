import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_CREDENTIALS, startEmbedded, type Embedded } from '../../src/cli/embedded.js';
import { auditedLogger } from '../support/audit.js';
import { testConfig } from '../support/config.js';

let dir: string;
let embedded: Embedded;
let endpoint: string;
let tableName: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rkms-embedded-'));
  const config = testConfig({ embedded: { dynamodb: true, data_dir: dir } });
  tableName = config.dynamodb.table_name;
  embedded = await startEmbedded(config, auditedLogger('cli-embedded'));
  endpoint = embedded.endpoints.dynamodb ?? '';
});

afterAll(async () => {
  await embedded.close();
  await rm(dir, { recursive: true, force: true });
});

/** A DynamoDB call with this Host header, as a browser tricked by DNS rebinding would send it. */
function dynamoCall(target: string, host: string, body: object = {}) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = request(
      endpoint,
      {
        method: 'POST',
        agent: false,
        headers: {
          host,
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${target}`,
          // dynalite checks that a signature is there, not that it is right.
          authorization:
            'AWS4-HMAC-SHA256 Credential=rkms-embedded/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
          'x-amz-date': '20260101T000000Z',
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('the embedded store (DNS rebinding)', () => {
  it('answers loopback names only, and a foreign Host changes nothing', async () => {
    const port = new URL(endpoint).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const listed = await dynamoCall('ListTables', host);
      expect(listed.status, host).toBe(200);
      expect(listed.body.TableNames).toContain(tableName);
    }
    for (const host of ['evil.example', `evil.example:${port}`, '127.0.0.1.nip.io']) {
      const listed = await dynamoCall('ListTables', host);
      expect(listed.status, host).toBe(421);
      expect(listed.body).toEqual({
        __type: 'com.amazonaws.dynamodb.v20120810#MisdirectedRequest',
        message: expect.stringContaining('not a name the embedded store answers to') as string,
      });
      expect((await dynamoCall('DeleteTable', host, { TableName: tableName })).status).toBe(421);
    }
    // The table the refused DeleteTable named is still there, for the AWS SDK as RKMS uses it.
    const client = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials: EMBEDDED_CREDENTIALS });
    try {
      expect((await client.send(new ListTablesCommand({}))).TableNames).toContain(tableName);
    } finally {
      client.destroy();
    }
  });
});
