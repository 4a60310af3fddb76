/**
 * Issue #6's promise, tried as an operator would: the local KMS, dynalite and three RKMS
 * replicas each in a process of its own, faults switched on through the local KMS's admin
 * endpoint, under concurrent load.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllClis, resultLine, runCli, runScript, type CliProcess } from '../support/cli.js';
import { call, deleteKey, getKey } from '../support/http.js';

const REGIONS = ['us-east-1', 'us-east-2', 'us-west-1'];
const CREDENTIALS = { accessKeyId: 'rkms-test', secretAccessKey: 'rkms-test' };
const ENV = {
  AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
const RESET_AFTER_MS = 2_000;
/** How long a region that lost a hedged race is tried after the others. */
const WINDOW_MS = 4_000;
const REQUEST_TIMEOUT_MS = 3_000;

let dir: string;
let kmsProcess: CliProcess;
let storeProcess: CliProcess;
let kmsUrl: string;
let storeUrl: string;
const replicas: Record<string, { process: CliProcess; url: string; config: string }> = {};
let table: DynamoDBDocumentClient;
const existing = Array.from({ length: 30 }, (_, i) => `existing-${i}`);
/** Every key handed out per id during the whole file: each id must only ever have one. */
const seen = new Map<string, Set<string>>();

function configText(regions: string[], extra = ''): string {
  return `
[server]
port = 0
request_timeout_ms = ${REQUEST_TIMEOUT_MS}
[logger]
level = "debug"
[kms]
regions = ${JSON.stringify(regions)}
hedge_after_ms = 100
timeout_ms = 1000
min_regions = 2
[kms.endpoints]
${regions.map((r) => `${r} = "${kmsUrl}"`).join('\n')}
[kms.circuit]
minimum_calls = 3
window_ms = ${WINDOW_MS}
reset_after_ms = ${RESET_AFTER_MS}
[dynamodb]
region = "us-east-1"
table_name = "partial_failures"
endpoint = "${storeUrl}"
create_table = true
timeout_ms = 1000
max_attempts = 2
${extra}
`;
}

async function startReplica(name: string, extra = ''): Promise<void> {
  const config = path.join(dir, `${name}.toml`);
  await writeFile(config, configText(REGIONS, extra));
  const process = runCli(['serve', '--config', config], ENV);
  const [, url] = await process.waitFor(/RKMS listening on (http:\/\/\S+)/);
  replicas[name] = { process, url: url ?? '', config };
}

const admin = (method: string, resource: string, body?: unknown) =>
  fetch(`${kmsUrl}/admin/${resource}`, { method, ...(body ? { body: JSON.stringify(body) } : {}) });
const counters = async () =>
  (await (await admin('GET', 'counters')).json()) as Record<string, Record<string, number>>;
const callsOf = async (region: string, operation: string) => (await counters())[region]?.[operation] ?? 0;
const total = async (operation: string) =>
  Object.values(await counters()).reduce((sum, ops) => sum + (ops[operation] ?? 0), 0);

async function item(id: string) {
  return (
    await table.send(new GetCommand({ TableName: 'partial_failures', Key: { id }, ConsistentRead: true }))
  ).Item;
}
const copiesOf = async (id: string) => Object.keys(((await item(id))?.keys ?? {}) as object).sort();

function remember(id: string, key: unknown) {
  if (typeof key !== 'string') return;
  const keys = seen.get(id) ?? new Set<string>();
  keys.add(key);
  seen.set(id, keys);
}

/** Concurrent GETs over every replica for `ms`; returns the statuses seen, by status. */
async function load(ids: readonly string[], ms: number, urls = [replicas.a?.url, replicas.b?.url]) {
  const statuses: Record<number, number> = {};
  const failures: string[] = [];
  const until = Date.now() + ms;
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < until) {
        const n = next++;
        const id = ids[n % ids.length] ?? '';
        const reply = await getKey(urls[n % urls.length] ?? '', id);
        statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
        if (reply.status !== 200) failures.push(`${id}: ${reply.status} ${JSON.stringify(reply.body)}`);
        remember(id, reply.body.key);
      }
    }),
  );
  return { statuses, failures };
}

/** New ids asked of two replicas at once, as racing applications would. */
async function createNew(prefix: string, count: number) {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const replies = await Promise.all(
    ids.flatMap((id) => [getKey(replicas.a?.url ?? '', id), getKey(replicas.b?.url ?? '', id)]),
  );
  for (const [i, reply] of replies.entries()) remember(ids[Math.floor(i / 2)] ?? '', reply.body.key);
  return { ids, replies };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rkms-partial-'));
  const allRegions = [...REGIONS, 'us-west-2'];
  const seed = path.join(dir, 'seed.json');
  await writeFile(
    seed,
    JSON.stringify({
      keys: allRegions.map((region, i) => ({
        keyId: `00000000-0000-4000-8000-00000000000${i}`,
        region,
        aliases: [`alias/rkms-${region}`],
      })),
    }),
  );
  kmsProcess = runCli([
    'local-kms',
    '--port',
    '0',
    '--regions',
    allRegions.join(','),
    '--seed',
    seed,
    '--log-level',
    'warn',
  ]);
  storeProcess = runScript('test/support/dynalite-server.ts', [], {}, 'dynalite-process');
  [, kmsUrl = ''] = await kmsProcess.waitFor(/listening on (http:\/\/\S+)/);
  [, storeUrl = ''] = await storeProcess.waitFor(/listening on (http:\/\/\S+)/);
  // Replicas a and b cache nothing, so every read goes to KMS; c caches for a minute.
  await Promise.all([
    startReplica('a', '[cache]\nttl_seconds = 0'),
    startReplica('b', '[cache]\nttl_seconds = 0'),
  ]);
  await startReplica('c', '[cache]\nttl_seconds = 60');
  table = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', endpoint: storeUrl, credentials: CREDENTIALS }),
  );
  for (const id of existing) remember(id, (await getKey(replicas.a?.url ?? '', id)).body.key);
}, 120_000);

afterAll(async () => {
  storeProcess.child.kill('SIGCONT');
  for (const replica of Object.values(replicas)) await replica.process.stop('SIGTERM');
  await kmsProcess.stop();
  await storeProcess.stop();
  killAllClis();
  table.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('with one KMS region failing', () => {
  const kms = () =>
    new KMSClient({ region: 'us-east-1', endpoint: kmsUrl, credentials: CREDENTIALS, maxAttempts: 1 });

  it.each([
    ['down', { down: {} }],
    ['blackholed (5 s latency)', { latency: { ms: 5000 } }],
    ['throttling', { throttle: {} }],
    ['answering internal errors', { error: {} }],
  ])(
    'reads every existing key and creates new ones with a quorum while us-east-1 is %s',
    async (label, fault) => {
      expect((await admin('PUT', 'faults/us-east-1', fault)).status).toBe(200);
      try {
        const { statuses, failures } = await load(existing, 2_000);
        expect(failures).toEqual([]);
        expect(statuses[200]).toBeGreaterThan(0);
        const { ids, replies } = await createNew(`new-${label.split(' ')[0] ?? label}`, 6);
        expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
        for (const [i, id] of ids.entries()) {
          expect(replies[2 * i]?.body.key).toBe(replies[2 * i + 1]?.body.key);
          expect((await copiesOf(id)).length).toBeGreaterThanOrEqual(2);
        }
      } finally {
        await admin('DELETE', 'faults');
      }
    },
  );

  it('reads and creates while us-east-1’s key is disabled (misconfigured), and says so in the log', async () => {
    const client = kms();
    const keyId = (await client.send(new DescribeKeyCommand({ KeyId: 'alias/rkms-us-east-1' }))).KeyMetadata
      ?.KeyId;
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    try {
      const { failures } = await load(existing, 1_500);
      expect(failures).toEqual([]);
      const { replies } = await createNew('new-disabled', 4);
      expect(replies.every((r) => r.status === 200)).toBe(true);
      // A replica that still skips us-east-1 after the earlier faults tries it again within
      // reset_after_ms plus the circuit window; keep reading, without a failure, until one says so.
      await expect
        .poll(
          async () => {
            const { failures: more } = await load(existing, 300);
            expect(more).toEqual([]);
            return `${replicas.a?.process.stdout() ?? ''}${replicas.b?.process.stdout() ?? ''}`;
          },
          { timeout: 30_000, interval: 0 },
        )
        .toMatch(/"region":"us-east-1".*key disabled \(DisabledException\).*cannot use its configured key/);
    } finally {
      await client.send(new EnableKeyCommand({ KeyId: keyId }));
      client.destroy();
    }
  });

  it('reads a key whose copy in one region is not base64', async () => {
    await table.send(
      new UpdateCommand({
        TableName: 'partial_failures',
        Key: { id: 'existing-0' },
        UpdateExpression: 'SET #keys.#r = :junk',
        ExpressionAttributeNames: { '#keys': 'keys', '#r': 'us-east-1' },
        ExpressionAttributeValues: { ':junk': '*** not base64 ***' },
      }),
    );
    const { failures } = await load(['existing-0'], 500);
    expect(failures).toEqual([]);
    await expect
      .poll(() => replicas.a?.process.stdout() ?? '', { timeout: 10_000 })
      .toMatch(/"level":50.*"id":"existing-0","region":"us-east-1".*damaged copy/);
  });

  it('uses the nearest region again within reset_after_ms and a few seconds of read-only traffic', async () => {
    await admin('PUT', 'faults/us-east-1', { down: {} });
    await load(existing, 1_000);
    await admin('DELETE', 'faults');
    const before = await callsOf('us-east-1', 'Decrypt');
    const recovered = Date.now();
    let back = false;
    while (!back && Date.now() - recovered < RESET_AFTER_MS + WINDOW_MS + 4_000) {
      await load(existing, 250);
      back = (await callsOf('us-east-1', 'Decrypt')) > before + 10;
    }
    expect(back).toBe(true);
  });

  it('leaves every item complete after the faults, through repair on read and rkms repair', async () => {
    const repair = runCli(['repair', '--config', replicas.a?.config ?? ''], ENV);
    expect(await repair.exited).toBe(0);
    const summary = resultLine(repair.stdout(), 'scanned');
    expect(summary.failed).toEqual([]);
    for (const id of [...existing, ...seen.keys()]) expect(await copiesOf(id)).toEqual(REGIONS);
  });
});

describe('with the store hung', () => {
  it('answers 503 StoreUnavailable within the request deadline and generates no key', async () => {
    const generated = await total('GenerateDataKey');
    storeProcess.child.kill('SIGSTOP');
    try {
      for (const id of ['never-created', 'existing-1']) {
        const started = Date.now();
        const reply = await getKey(replicas.a?.url ?? '', id);
        expect(reply.status).toBe(503);
        expect(reply.body.error_type).toBe('StoreUnavailable');
        expect(reply.headers.get('retry-after')).toBe('2');
        // The deadline is 3 s; without it each request would wait for every store attempt.
        expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS + 2_000);
      }
    } finally {
      storeProcess.child.kill('SIGCONT');
    }
    expect(await total('GenerateDataKey')).toBe(generated);
    await expect
      .poll(async () => (await getKey(replicas.a?.url ?? '', 'existing-1')).status, { timeout: 15_000 })
      .toBe(200);
  });
});

describe('rkms repair', () => {
  it('gives every item a copy in a fourth region added to the config', async () => {
    const four = path.join(dir, 'four.toml');
    await writeFile(four, configText([...REGIONS, 'us-west-2']));
    const repair = runCli(['repair', '--config', four], ENV);
    expect(await repair.exited).toBe(0);
    expect(repair.stderr()).toMatch(/repaired: us-west-2 \d+/);
    for (const id of existing) expect(await copiesOf(id)).toEqual([...REGIONS, 'us-west-2'].sort());
  });

  it('finds a damaged copy with --verify and replaces it', async () => {
    const copy = Buffer.from(
      ((await item('existing-2'))?.keys as Record<string, string>)['us-west-1'] ?? '',
      'base64',
    );
    copy[copy.length - 4] = (copy[copy.length - 4] ?? 0) ^ 0x10;
    const damaged = copy.toString('base64');
    await table.send(
      new UpdateCommand({
        TableName: 'partial_failures',
        Key: { id: 'existing-2' },
        UpdateExpression: 'SET #keys.#r = :damaged',
        ExpressionAttributeNames: { '#keys': 'keys', '#r': 'us-west-1' },
        ExpressionAttributeValues: { ':damaged': damaged },
      }),
    );
    const verify = runCli(['repair', '--verify', '--config', replicas.a?.config ?? ''], ENV);
    expect(await verify.exited).toBe(0);
    const summary = resultLine(verify.stdout(), 'scanned');
    expect(summary.damaged).toBeGreaterThanOrEqual(1);
    expect(((await item('existing-2'))?.keys as Record<string, string>)['us-west-1']).not.toBe(damaged);
    const again = runCli(['repair', '--verify', '--config', replicas.a?.config ?? ''], ENV);
    expect(await again.exited).toBe(0);
    expect(resultLine(again.stdout(), 'scanned').damaged).toBe(0);
  });
});

describe('deletion across replicas with different cache TTLs', () => {
  it('never hands out two keys for one id; a destroyed id answers 410 until POST /key re-creates it', async () => {
    const id = 'shared-doomed';
    const [onA, onC] = [await getKey(replicas.a?.url ?? '', id), await getKey(replicas.c?.url ?? '', id)];
    expect(onC.body.key).toBe(onA.body.key);
    remember(id, onA.body.key);
    expect((await deleteKey(replicas.a?.url ?? '', id)).status).toBe(200);
    // The window passes (moved in the table, as a day cannot be waited for here).
    await table.send(
      new UpdateCommand({
        TableName: 'partial_failures',
        Key: { id },
        UpdateExpression: 'SET deletion_date = :past',
        ExpressionAttributeValues: { ':past': '2020-01-01T00:00:00.000Z' },
      }),
    );
    for (const url of [replicas.a?.url, replicas.b?.url, replicas.c?.url, replicas.a?.url]) {
      const reply = await getKey(url ?? '', id);
      remember(id, reply.body.key);
      // Replica c may still serve its cached copy of the same key; nobody serves another one.
      expect([200, 410]).toContain(reply.status);
      if (reply.status === 410) expect(reply.body.error_type).toBe('KeyDeleted');
    }
    expect(seen.get(id)?.size).toBe(1);
    expect((await item(id))?.state).toBe('Deleted');

    const recreated = await call(replicas.b?.url ?? '', 'POST', `/key?id=${id}`);
    expect(recreated.status).toBe(201);
    expect(recreated.body.key).not.toBe(onA.body.key);
    expect((await getKey(replicas.a?.url ?? '', id)).body.key).toBe(recreated.body.key);
  });

  it('never handed out two keys for any other id during the whole run', () => {
    const split = [...seen].filter(([id, keys]) => id !== 'shared-doomed' && keys.size !== 1);
    expect(split).toEqual([]);
  });
});
