import { EncryptCommand } from '@aws-sdk/client-kms';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_CREDENTIALS } from '../../src/cli/embedded.js';
import { createKmsClient } from '../../src/kms/aws-backend.js';
import { TEST_REGIONS, testConfig } from '../support/config.js';
import { deleteKey, getKey, restoreKey } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
let url: string;
let raw: DynamoDBDocumentClient;
const config = testConfig({ cache: { ttl_seconds: 0 }, kms: { hedge_after_ms: 0 } });

beforeAll(async () => {
  stack = await startStack(config, 'integration');
  ({ url } = await stack.startService());
  raw = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: stack.dynalite.endpoint,
      credentials: EMBEDDED_CREDENTIALS,
    }),
  );
});

afterAll(async () => {
  raw.destroy();
  await stack.close();
});

const item = (id: string) =>
  raw.send(new GetCommand({ TableName: config.dynamodb.table_name, Key: { id } })).then((r) => r.Item);

function kmsClient(region: string) {
  return createKmsClient({
    region,
    endpoint: stack.kms.url,
    credentials: EMBEDDED_CREDENTIALS,
    kms: config.kms,
  });
}

describe('RKMS over HTTP on dynalite and the local KMS', () => {
  it('gives the same key for the same id, different 32-byte keys for different ids, on both paths', async () => {
    const a1 = await getKey(url, 'alpha');
    const a2 = await getKey(url, 'alpha', '/api/v1');
    const b = await getKey(url, 'beta');
    expect(a1.status).toBe(200);
    expect(a2.body).toEqual(a1.body);
    expect(b.body.key).not.toBe(a1.body.key);
    for (const reply of [a1, b]) expect(Buffer.from(reply.body.key as string, 'base64')).toHaveLength(32);
    const stored = await item('alpha');
    expect(Object.keys((stored?.keys ?? {}) as object).sort()).toEqual([...TEST_REGIONS].sort());
    expect(stored?.ctx).toBe('rkms:id');
  });

  it('serves an item in the original RKMS format, whose ciphertexts carry no encryption context', async () => {
    const plaintext = randomBytes(32);
    const keys: Record<string, string> = {};
    for (const region of TEST_REGIONS) {
      const client = kmsClient(region);
      const { CiphertextBlob } = await client.send(
        new EncryptCommand({ KeyId: `alias/rkms-${region}`, Plaintext: plaintext }),
      );
      keys[region] = Buffer.from(CiphertextBlob ?? []).toString('base64');
      client.destroy();
    }
    await raw.send(
      new PutCommand({ TableName: config.dynamodb.table_name, Item: { id: 'from-the-go-service', keys } }),
    );
    const reply = await getKey(url, 'from-the-go-service');
    expect(reply.status).toBe(200);
    expect(reply.body.key).toBe(plaintext.toString('base64'));
  });

  it('refuses, and reports, an item whose ciphertexts were copied from another id', async () => {
    const victim = await getKey(url, 'victim');
    await raw.send(
      new PutCommand({
        TableName: config.dynamodb.table_name,
        Item: { ...(await item('victim')), id: 'thief' },
      }),
    );
    const reply = await getKey(url, 'thief');
    expect(reply.status).toBe(409);
    expect(reply.body.error_type).toBe('KeyIntegrityError');
    expect(JSON.stringify(reply.body)).not.toContain(victim.body.key as string);
    // The copied item is left for an operator; it is never replaced by a new key.
    expect((await item('thief'))?.keys).toEqual((await item('victim'))?.keys);
  });

  it('also refuses a copied ciphertext whose context marker was stripped to look like a legacy item', async () => {
    const stolen = await item('victim');
    const withoutMarker = { ...stolen };
    delete withoutMarker.ctx;
    await raw.send(
      new PutCommand({ TableName: config.dynamodb.table_name, Item: { ...withoutMarker, id: 'thief-2' } }),
    );
    expect((await getKey(url, 'thief-2')).status).toBe(409);
  });

  it('refuses a pending key with 409, restores the same key, and never hands out a new one meanwhile', async () => {
    const original = await getKey(url, 'to-delete');
    const deleted = await deleteKey(url, 'to-delete');
    expect(deleted.body.state).toBe('PendingDeletion');
    const refused = await getKey(url, 'to-delete');
    expect(refused.status).toBe(409);
    expect(refused.body.error_type).toBe('KeyPendingDeletion');
    expect((await restoreKey(url, 'to-delete')).body.state).toBe('Enabled');
    expect((await getKey(url, 'to-delete')).body.key).toBe(original.body.key);
  });
});

describe('region failures on the local KMS', () => {
  it('reads an existing key from another region while one region is down', async () => {
    const before = await getKey(url, 'resilient');
    stack.kms.faults.set('us-east-1', { down: {} });
    try {
      const during = await getKey(url, 'resilient');
      expect(during.status).toBe(200);
      expect(during.body.key).toBe(before.body.key);
    } finally {
      stack.kms.faults.clear();
    }
  });

  it('creates a key while a region errs, with copies in the others (a quorum), and names none missing once repaired', async () => {
    stack.kms.faults.set('us-west-1', { error: {} });
    try {
      const reply = await getKey(url, 'created-during-outage');
      expect(reply.status).toBe(200);
      expect(Object.keys((await item('created-during-outage'))?.keys as object)).toEqual([
        'us-east-1',
        'us-east-2',
      ]);
      stack.kms.faults.clear();
      expect((await getKey(url, 'created-during-outage')).body.key).toBe(reply.body.key);
      await expect
        .poll(async () => Object.keys((await item('created-during-outage'))?.keys as object), {
          timeout: 10_000,
        })
        .toEqual(TEST_REGIONS);
    } finally {
      stack.kms.faults.clear();
    }
    expect((await getKey(url, 'needs-all-regions')).status).toBe(200);
  });
});

describe('hedging on the local KMS', () => {
  it('answers from the next region when the first is slow', async () => {
    const hedged = await stack.startService({
      kms: { ...config.kms, hedge_after_ms: 50, timeout_ms: 5_000 },
    });
    const before = await getKey(hedged.url, 'slow-home');
    stack.kms.resetCounters();
    stack.kms.faults.set('us-east-1', { latency: { ms: 3_000, operations: ['Decrypt'] } });
    try {
      const reply = await getKey(hedged.url, 'slow-home');
      expect(reply.body.key).toBe(before.body.key);
      expect(stack.kms.counters()['us-east-2']?.Decrypt).toBe(1);
    } finally {
      stack.kms.faults.clear();
    }
  });
});
