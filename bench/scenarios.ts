/**
 * The benchmark's scenarios (issue #9): each runs RKMS in processes of its own against the
 * local KMS and dynalite, and pairs every RKMS run with a run of the bare Fastify route in
 * the same pattern, interleaved, keeping the medians.
 */
import { callsBetween, kmsCounters, median, PathSequence, runLoad, type LoadResult } from './load.js';
import { startRkms, REGIONS, type Part, type RkmsOptions } from './processes.js';

/** How a scenario's load runs are laid out. */
export interface RunPattern {
  /** Interleaved RKMS/bare pairs; the medians are reported. */
  rounds: number;
  durationSeconds: number;
  /** An unmeasured run against each server first, so that JIT compilation has settled (0: none). */
  warmupSeconds: number;
}

export interface BenchSettings {
  dir: string;
  connections: number;
  /** Every scenario's pattern but (a)'s. */
  runs: RunPattern;
  /**
   * (a)'s: the ratio its target is about moves with the machine from one minute to the next,
   * so more, shorter pairs, after a warm-up.
   */
  cachedReadRuns: RunPattern;
  /** Existing ids the read scenarios rotate over. */
  ids: number;
  /** New ids the three replicas race for, in (g). */
  raceIds: number;
  /** Keys cached in (h). */
  cachedKeys: number;
}

export interface Row {
  key: string;
  scenario: string;
  rkms: LoadResult;
  bare: LoadResult | undefined;
  /** What the scenario found beyond the load figures (items, keys per id, memory). */
  notes: string[];
}

export interface Parts {
  kms: Part;
  /** us-east-1's own listener on the local KMS (refuses connections while it is down). */
  firstRegionUrl: string;
  store: Part;
  bare: Part;
}

const existingId = (n: number, count: number) => `bench-${n % count}`;

export class Scenarios {
  private table = 0;
  private readonly healthyP99: number[] = [];

  constructor(
    private readonly settings: BenchSettings,
    private readonly parts: Parts,
  ) {}

  private options(overrides: Partial<RkmsOptions> = {}): RkmsOptions {
    return {
      kmsUrl: this.parts.kms.url,
      firstRegionUrl: this.parts.firstRegionUrl,
      storeUrl: this.parts.store.url,
      table: 'bench',
      ...overrides,
    };
  }

  /**
   * Medians of `rounds` interleaved pairs, the bare route first in one pair and RKMS first
   * in the next (bare, RKMS, RKMS, bare, ...): a machine that speeds up or slows down over
   * the pairs favours neither.
   */
  private async compare(
    target: Part,
    pathOf: (n: number) => string,
    { rounds, durationSeconds, warmupSeconds } = this.settings.runs,
  ): Promise<[LoadResult, LoadResult]> {
    const { connections } = this.settings;
    const barePaths = new PathSequence(pathOf);
    const rkmsPaths = new PathSequence(pathOf);
    const runBare = (seconds: number) =>
      runLoad({ url: this.parts.bare.url, connections, durationSeconds: seconds, paths: barePaths });
    const runRkms = (seconds: number) =>
      runLoad({
        url: target.url,
        connections,
        durationSeconds: seconds,
        paths: rkmsPaths,
        kmsUrl: this.parts.kms.url,
      });
    if (warmupSeconds > 0) {
      await runBare(warmupSeconds);
      await runRkms(warmupSeconds);
    }
    const rkms: LoadResult[] = [];
    const bare: LoadResult[] = [];
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) bare.push(await runBare(durationSeconds));
      rkms.push(await runRkms(durationSeconds));
      if (round % 2 === 1) bare.push(await runBare(durationSeconds));
    }
    return [medianOf(rkms), medianOf(bare)];
  }

  private async withRkms<T>(name: string, overrides: Partial<RkmsOptions>, run: (rkms: Part) => Promise<T>) {
    const rkms = await startRkms(this.settings.dir, name, this.options(overrides));
    try {
      return await run(rkms);
    } finally {
      await rkms.stop();
    }
  }

  /** Creates the ids the read scenarios use (through RKMS, as applications would). */
  async createExisting(): Promise<void> {
    await this.withRkms('setup', {}, (rkms) =>
      getAll(
        rkms.url,
        Array.from({ length: this.settings.ids }, (_, n) => existingId(n, this.settings.ids)),
      ),
    );
  }

  /** (a) Cached reads of existing ids. */
  async cachedReads(): Promise<Row> {
    const { ids } = this.settings;
    return this.withRkms('cached', {}, async (rkms) => {
      await getAll(
        rkms.url,
        Array.from({ length: ids }, (_, n) => existingId(n, ids)),
      );
      const [result, bare] = await this.compare(
        rkms,
        (n) => `/key?id=${existingId(n, ids)}`,
        this.settings.cachedReadRuns,
      );
      return row('a', `cached reads, ${ids} existing ids`, result, bare);
    });
  }

  /** (b) The same reads with the cache off: a store read and one Decrypt each. */
  async uncachedReads(): Promise<Row> {
    const { ids } = this.settings;
    return this.withRkms('uncached', { cacheTtlSeconds: 0 }, async (rkms) => {
      const [result, bare] = await this.compare(rkms, (n) => `/key?id=${existingId(n, ids)}`);
      this.healthyP99.push(result.p99);
      return row('b', `cache off, ${ids} existing ids`, result, bare);
    });
  }

  /** (c) One hot id with the cache off: concurrent requests share one store read and Decrypt. */
  async hotId(): Promise<Row> {
    return this.withRkms('hot', { cacheTtlSeconds: 0 }, async (rkms) => {
      const [result, bare] = await this.compare(rkms, () => `/key?id=${existingId(0, 1)}`);
      return row('c', 'cache off, one hot id (single-flight)', result, bare);
    });
  }

  /** (d) New ids: GenerateDataKey, an Encrypt per other region, a conditional put. */
  async newIds(): Promise<Row> {
    const run = this.table++;
    return this.withRkms('new', {}, async (rkms) => {
      const [result, bare] = await this.compare(rkms, (n) => `/key?id=new-${run}-${n}`);
      return row('d', 'new ids', result, bare);
    });
  }

  /**
   * (e) Cache-off reads while us-east-1, the nearest region, is blackholed (5 s latency),
   * then refuses connections, then throttles: a fresh replica each time, so each row
   * includes finding out.
   */
  async firstRegionFaults(): Promise<Row[]> {
    const { ids } = this.settings;
    const faults: [string, string, unknown][] = [
      ['e1', 'blackholed (5 s latency)', { latency: { ms: 5000 } }],
      ['e2', 'refusing connections', { down: {} }],
      ['e3', 'throttling', { throttle: {} }],
    ];
    const rows: Row[] = [];
    for (const [key, what, fault] of faults) {
      rows.push(
        await this.withRkms(`fault-${key}`, { cacheTtlSeconds: 0 }, async (rkms) => {
          await this.setFault(REGIONS[0], fault);
          try {
            const [result, bare] = await this.compare(rkms, (n) => `/key?id=${existingId(n, ids)}`);
            const healthy = median(this.healthyP99);
            return row(key, `cache off, ${REGIONS[0]} ${what}`, result, bare, [
              `p99 ${result.p99} ms against ${healthy} ms healthy (${(result.p99 / healthy).toFixed(2)}×)`,
            ]);
          } finally {
            await this.clearFaults();
          }
        }),
      );
    }
    return rows;
  }

  /** (f) New ids while us-east-1 is down: created with the quorum of the other two. */
  async newIdsOneRegionDown(): Promise<Row> {
    const run = this.table++;
    return this.withRkms('new-down', {}, async (rkms) => {
      await this.setFault(REGIONS[0], { down: {} });
      try {
        const [result, bare] = await this.compare(rkms, (n) => `/key?id=new-down-${run}-${n}`);
        return row('f', `new ids, ${REGIONS[0]} down`, result, bare);
      } finally {
        await this.clearFaults();
      }
    });
  }

  /**
   * (g) Three replicas on one store, each asked for the same new ids at the same moment:
   * how many items and keys each id ends with, and how many GenerateDataKey it cost.
   */
  async threeReplicasRace(): Promise<Row> {
    const { dir, raceIds, connections } = this.settings;
    const replicas = await Promise.all(
      ['race-1', 'race-2', 'race-3'].map((name) => startRkms(dir, name, this.options())),
    );
    try {
      const ids = Array.from({ length: raceIds }, (_, n) => `race-${n}`);
      const keysOf = new Map<string, Set<string>>();
      const before = await kmsCounters(this.parts.kms.url);
      const started = performance.now();
      const latencies: number[] = [];
      let errors = 0;
      // A third of the connections per replica, every id asked of all three at once.
      const perBatch = Math.max(1, Math.floor(connections / replicas.length));
      for (let i = 0; i < ids.length; i += perBatch) {
        await Promise.all(
          ids.slice(i, i + perBatch).flatMap((id) =>
            replicas.map(async (replica) => {
              const sent = performance.now();
              const reply = await fetch(`${replica.url}/key?id=${id}`);
              const body = (await reply.json()) as { key?: string };
              latencies.push(performance.now() - sent);
              if (reply.status !== 200 || !body.key) errors++;
              else keysOf.set(id, (keysOf.get(id) ?? new Set()).add(body.key));
            }),
          ),
        );
      }
      const seconds = (performance.now() - started) / 1000;
      const calls = callsBetween(before, await kmsCounters(this.parts.kms.url));
      const items = await countItems(this.parts.store.url, ids);
      const requests = latencies.length;
      const result: LoadResult = {
        rps: requests / seconds,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        errors,
        requests,
        kmsCallsPerRequest: Object.values(calls).reduce((a, b) => a + b, 0) / requests,
        kmsCalls: calls,
      };
      const keysPerId = Math.max(...[...keysOf.values()].map((keys) => keys.size));
      return row('g', `three replicas, the same ${raceIds} new ids at once`, result, undefined, [
        `${items} items for ${raceIds} ids`,
        `at most ${keysPerId} key per id`,
        `${((calls.GenerateDataKey ?? 0) / raceIds).toFixed(2)} GenerateDataKey per id`,
      ]);
    } finally {
      await Promise.all(replicas.map((replica) => replica.stop()));
    }
  }

  private async setFault(region: string, fault: unknown): Promise<void> {
    const reply = await fetch(`${this.parts.kms.url}/admin/faults/${region}`, {
      method: 'PUT',
      body: JSON.stringify(fault),
    });
    if (!reply.ok) throw new Error(`cannot set the fault: ${await reply.text()}`);
  }

  private async clearFaults(): Promise<void> {
    await fetch(`${this.parts.kms.url}/admin/faults`, { method: 'DELETE' });
  }
}

function row(key: string, scenario: string, rkms: LoadResult, bare?: LoadResult, notes: string[] = []): Row {
  return { key, scenario, rkms, bare, notes };
}

function medianOf(results: LoadResult[]): LoadResult {
  const of = (pick: (r: LoadResult) => number) => median(results.map(pick));
  const calls = results.map((r) => r.kmsCallsPerRequest).filter((c) => c !== undefined);
  return {
    rps: of((r) => r.rps),
    p50: of((r) => r.p50),
    p99: of((r) => r.p99),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    kmsCallsPerRequest: calls.length > 0 ? median(calls) : undefined,
    kmsCalls: results.at(-1)?.kmsCalls ?? {},
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
}

/** GETs every id, 50 at a time. */
export async function getAll(url: string, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids.slice(i, i + 50).map(async (id) => {
        const reply = await fetch(`${url}/key?id=${encodeURIComponent(id)}`);
        await reply.arrayBuffer();
        if (reply.status !== 200) throw new Error(`GET ${id}: ${reply.status}`);
      }),
    );
  }
}

/** How many of these ids have an item in the bench's table (read straight from the store). */
async function countItems(storeUrl: string, ids: readonly string[]): Promise<number> {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDBDocumentClient, GetCommand } = await import('@aws-sdk/lib-dynamodb');
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: storeUrl,
      credentials: { accessKeyId: 'rkms-bench', secretAccessKey: 'rkms-bench' },
    }),
  );
  let items = 0;
  for (const id of ids) {
    const { Item } = await client.send(
      new GetCommand({ TableName: 'bench', Key: { id }, ConsistentRead: true }),
    );
    if (Item) items++;
  }
  client.destroy();
  return items;
}
