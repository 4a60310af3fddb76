/**
 * Issue #6's promise, tried as an operator would: the local KMS, dynalite and three RKMS
 * replicas each in a process of its own, faults switched on through the local KMS's admin
 * endpoint, under concurrent load.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  paginateScan,
} from '@aws-sdk/lib-dynamodb';
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
const STORE_TIMEOUT_MS = 2_000;

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
# The defaults: three attempts of 2 s, twice the request deadline.
timeout_ms = ${STORE_TIMEOUT_MS}
max_attempts = 3
[dynamodb.circuit]
minimum_calls = 3
reset_after_ms = ${RESET_AFTER_MS}
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
const keysOf = async (id: string) => ((await item(id))?.keys ?? {}) as Record<string, string>;

async function setCopy(id: string, region: string, value: string) {
  await table.send(
    new UpdateCommand({
      TableName: 'partial_failures',
      Key: { id },
      UpdateExpression: 'SET #keys.#r = :value',
      ExpressionAttributeNames: { '#keys': 'keys', '#r': region },
      ExpressionAttributeValues: { ':value': value },
    }),
  );
}

/** A region's copy with one bit flipped, as a damaged disk or a bad restore would leave it. */
async function flipCopy(id: string, region: string): Promise<string> {
  const copy = Buffer.from((await keysOf(id))[region] ?? '', 'base64');
  copy[copy.length - 4] = (copy[copy.length - 4] ?? 0) ^ 0x10;
  const flipped = copy.toString('base64');
  await setCopy(id, region, flipped);
  return flipped;
}

const kmsClients = new Map<string, KMSClient>();
function kmsIn(region: string): KMSClient {
  let client = kmsClients.get(region);
  if (!client) {
    client = new KMSClient({ region, endpoint: kmsUrl, credentials: CREDENTIALS, maxAttempts: 1 });
    kmsClients.set(region, client);
  }
  return client;
}

/** What a region's copy decrypts to there (base64), or why it does not. */
async function openedIn(id: string, region: string, copy: string | undefined): Promise<string> {
  if (copy === undefined) return 'missing';
  try {
    const reply = await kmsIn(region).send(
      new DecryptCommand({
        CiphertextBlob: Buffer.from(copy, 'base64'),
        KeyId: `alias/rkms-${region}`,
        EncryptionContext: { 'rkms:id': id },
      }),
    );
    return Buffer.from(reply.Plaintext ?? []).toString('base64');
  } catch (err) {
    return `refused: ${(err as Error).name}`;
  }
}

/** Regions whose copy of the id's key is missing or does not decrypt there to the key handed out. */
async function badCopies(id: string, regions = REGIONS): Promise<string[]> {
  const [key] = seen.get(id) ?? [];
  const keys = await keysOf(id);
  const opened = await Promise.all(
    regions.map(async (region) => ({ region, got: await openedIn(id, region, keys[region]) })),
  );
  return opened.filter(({ got }) => got !== key).map(({ region, got }) => `${id} ${region}: ${got}`);
}

/**
 * The JSON log lines a replica wrote after `from` characters of its log. The replicas write
 * their audit trail to stdout, so their log is on stderr (beside the start banner).
 */
function logLines(name: string, from = 0): Record<string, unknown>[] {
  return (replicas[name]?.process.stderr() ?? '')
    .slice(from)
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return []; // the banner, a line cut by `from`, or one still being written
      }
    });
}
const logLength = (name: string) => replicas[name]?.process.stderr().length ?? 0;

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

/** Reads every id once, over replicas a and b in turn; returns the failed reads. */
async function readEach(ids: readonly string[]): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let n = next++; n < ids.length; n = next++) {
        const id = ids[n] ?? '';
        const reply = await getKey((n % 2 === 0 ? replicas.a : replicas.b)?.url ?? '', id);
        if (reply.status !== 200) failures.push(`${id}: ${reply.status} ${JSON.stringify(reply.body)}`);
        remember(id, reply.body.key);
      }
    }),
  );
  return failures;
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
  for (const client of kmsClients.values()) client.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('with one KMS region failing', () => {
  const kms = () =>
    new KMSClient({ region: 'us-east-1', endpoint: kmsUrl, credentials: CREDENTIALS, maxAttempts: 1 });

  it('reads keys whose us-east-1 copy has a flipped bit, reports each at error level and replaces it', async () => {
    const damaged = existing.slice(3, 8);
    const flipped = new Map<string, string>();
    for (const id of damaged) flipped.set(id, await flipCopy(id, 'us-east-1'));
    const failures: string[] = [];
    // us-east-1 is every replica's first choice here: each read of these ids finds the damage.
    await expect
      .poll(
        async () => {
          failures.push(...(await load(existing, 300)).failures);
          const keys = await Promise.all(damaged.map(keysOf));
          return damaged.filter((id, i) => keys[i]?.['us-east-1'] === flipped.get(id));
        },
        { timeout: 20_000, interval: 0 },
      )
      .toEqual([]);
    expect(failures).toEqual([]);
    const reported = ['a', 'b'].flatMap((name) =>
      logLines(name).filter((line) => line.level === 50 && String(line.msg).includes('damaged copy')),
    );
    for (const id of damaged) {
      expect(reported.filter((line) => line.id === id && line.region === 'us-east-1').length).toBeGreaterThan(
        0,
      );
    }
    for (const id of damaged) expect(await badCopies(id)).toEqual([]);
  });

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
          // At least min_regions (2) of the three copies decrypt there to the key handed out.
          expect((await badCopies(id)).length).toBeLessThanOrEqual(1);
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
    const from = { a: logLength('a'), b: logLength('b') };
    const misconfigured = (name: 'a' | 'b') =>
      logLines(name, from[name]).filter(
        (line) =>
          line.level === 50 &&
          line.region === 'us-east-1' &&
          line.reason === 'key disabled (DisabledException)' &&
          String(line.msg).includes('cannot use its configured key'),
      );
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
            return misconfigured('a').length + misconfigured('b').length;
          },
          { timeout: 30_000, interval: 0 },
        )
        .toBeGreaterThan(0);
      // Every probe of the disabled key fails again, but each replica says so once a minute.
      expect(misconfigured('a').length).toBeLessThanOrEqual(1);
      expect(misconfigured('b').length).toBeLessThanOrEqual(1);
    } finally {
      await client.send(new EnableKeyCommand({ KeyId: keyId }));
      client.destroy();
    }
  });

  it('reads a key whose copy in one region is not base64, and reports it once a minute, not per read', async () => {
    const from = { a: logLength('a'), b: logLength('b') };
    await setCopy('existing-0', 'us-east-1', '*** not base64 ***');
    // us-east-1 cannot make copies, so the damage stays while the key is read again and again.
    await admin('PUT', 'faults/us-east-1', { error: { operations: ['Encrypt'] } });
    try {
      const { statuses, failures } = await load(['existing-0'], 1_000);
      expect(failures).toEqual([]);
      expect(statuses[200]).toBeGreaterThan(10);
      expect((await keysOf('existing-0'))['us-east-1']).toBe('*** not base64 ***');
      for (const name of ['a', 'b'] as const) {
        const lines = logLines(name, from[name]).filter(
          (line) =>
            line.level === 50 &&
            line.id === 'existing-0' &&
            line.region === 'us-east-1' &&
            String(line.msg).includes('damaged copy'),
        );
        expect(lines).toHaveLength(1);
      }
    } finally {
      await admin('DELETE', 'faults');
    }
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

  it('leaves every item complete once the faults cleared, through repair on read alone', async () => {
    const ids = [...seen.keys()];
    const failures: string[] = [];
    // Reading every id is all it takes: each incomplete or damaged item is repaired after its answer.
    await expect
      .poll(
        async () => {
          failures.push(...(await readEach(ids)));
          return (await Promise.all(ids.map((id) => badCopies(id)))).flat();
        },
        { timeout: 30_000, interval: 200 },
      )
      .toEqual([]);
    expect(failures).toEqual([]);
    const dryRun = runCli(['repair', '--dry-run', '--config', replicas.a?.config ?? ''], ENV);
    expect(await dryRun.exited).toBe(0);
    const summary = resultLine(dryRun.stdout(), 'scanned');
    expect(summary).toMatchObject({ repaired: {}, damaged: 0, failed: [] });
    expect(summary.complete).toBe(summary.scanned);
  }, 60_000);
});

describe('with the store hung', () => {
  it('answers 503 StoreUnavailable within the deadline, then at once when its circuit opened; no key generated', async () => {
    // Replica c: its store circuit has seen no traffic, so these requests alone decide it.
    const url = replicas.c?.url ?? '';
    const from = logLength('c');
    const generated = await total('GenerateDataKey');
    const timed = async (id: string) => {
      const started = Date.now();
      const reply = await getKey(url, id);
      return { reply, ms: Date.now() - started };
    };
    storeProcess.child.kill('SIGSTOP');
    try {
      const first = await Promise.all(
        ['never-created-1', 'never-created-2', 'existing-1', 'existing-2'].map(timed),
      );
      for (const { reply, ms } of first) {
        expect(reply.status).toBe(503);
        expect(reply.body.error_type).toBe('StoreUnavailable');
        expect(reply.headers.get('retry-after')).toBe('2');
        // Without the deadline each would wait for three store attempts of 2 s.
        expect(ms).toBeLessThan(REQUEST_TIMEOUT_MS + 2_000);
      }
      // Those calls ran past the store's per-attempt timeout: the circuit opened, and the
      // next requests are answered at once instead of waiting out the deadline again.
      expect(logLines('c', from).some((line) => String(line.msg).includes('key store circuit opened'))).toBe(
        true,
      );
      for (const id of ['never-created-3', 'existing-3']) {
        const { reply, ms } = await timed(id);
        expect(reply.status).toBe(503);
        expect(reply.body.error_type).toBe('StoreUnavailable');
        expect(ms).toBeLessThan(REQUEST_TIMEOUT_MS / 2);
      }
    } finally {
      storeProcess.child.kill('SIGCONT');
    }
    expect(await total('GenerateDataKey')).toBe(generated);
    await expect.poll(async () => (await getKey(url, 'existing-1')).status, { timeout: 15_000 }).toBe(200);
  });
});

/** Every item of the table, as a Scan sees it. */
async function allItems(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan(
    { client: table },
    { TableName: 'partial_failures', ConsistentRead: true },
  )) {
    items.push(...(page.Items ?? []));
  }
  return items;
}

describe('rkms repair', () => {
  it('gives every item a copy in a fourth region added to the config, and exits 1 for what it cannot repair', async () => {
    const four = path.join(dir, 'four.toml');
    await writeFile(four, configText([...REGIONS, 'us-west-2']));
    await table.send(
      new PutCommand({ TableName: 'partial_failures', Item: { id: 'unreadable', keys: 'junk' } }),
    );
    try {
      const repair = runCli(['repair', '--config', four], ENV);
      expect(await repair.exited).toBe(1);
      expect(repair.stderr()).toMatch(/repaired: us-west-2 \d+/);
      expect(repair.stderr()).toMatch(/"unreadable": attribute "keys" is not a map/);
      expect(resultLine(repair.stdout(), 'scanned').failed).toEqual([
        { id: 'unreadable', reason: 'attribute "keys" is not a map of region to ciphertext' },
      ]);
    } finally {
      await table.send(new DeleteCommand({ TableName: 'partial_failures', Key: { id: 'unreadable' } }));
    }
    const items = (await allItems()).filter((i) => i.state !== 'Deleted');
    expect(items.length).toBeGreaterThanOrEqual(seen.size);
    for (const { id } of items) expect(await badCopies(String(id), [...REGIONS, 'us-west-2'])).toEqual([]);
  });

  it('finds a damaged copy with --verify and replaces it with a copy of the same key', async () => {
    const damaged = await flipCopy('existing-2', 'us-west-1');
    expect(await badCopies('existing-2')).toEqual([
      'existing-2 us-west-1: refused: InvalidCiphertextException',
    ]);
    const verify = runCli(['repair', '--verify', '--config', replicas.a?.config ?? ''], ENV);
    expect(await verify.exited).toBe(0);
    const summary = resultLine(verify.stdout(), 'scanned');
    expect(summary.damaged).toBe(1);
    expect(summary.repaired).toEqual({ 'us-west-1': 1 });
    expect((await keysOf('existing-2'))['us-west-1']).not.toBe(damaged);
    expect(await badCopies('existing-2')).toEqual([]);
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

describe('with the store killed', () => {
  it('answers 503 StoreUnavailable and generates no key', async () => {
    const generated = await total('GenerateDataKey');
    storeProcess.child.kill('SIGKILL');
    await storeProcess.exited;
    for (const url of [replicas.a?.url, replicas.b?.url]) {
      const reply = await getKey(url ?? '', 'never-created-after-the-store-died');
      expect(reply.status).toBe(503);
      expect(reply.body.error_type).toBe('StoreUnavailable');
    }
    expect(await total('GenerateDataKey')).toBe(generated);
  });
});
