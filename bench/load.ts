/** One load run: autocannon against a URL, and what the local KMS did meanwhile. */
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Where the run's requests go; a sequence shared by several runs goes on where the last one stopped. */
  paths: PathSequence;
  /** The local KMS whose counters say how many KMS calls the run cost. */
  kmsUrl?: string;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** Connection errors, timeouts and answers other than 2xx. */
  errors: number;
  requests: number;
  /** Every KMS operation the local KMS counted during the run, per request answered. */
  kmsCallsPerRequest: number | undefined;
  /** The same, by operation. */
  kmsCalls: Record<string, number>;
}

export type Counters = Record<string, Record<string, number>>;

export async function kmsCounters(kmsUrl: string): Promise<Counters> {
  return (await (await fetch(`${kmsUrl}/admin/counters`)).json()) as Counters;
}

/** Calls per operation, summed over regions, between two readings of the counters. */
export function callsBetween(before: Counters, after: Counters): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const [region, operations] of Object.entries(after)) {
    for (const [operation, count] of Object.entries(operations)) {
      const delta = count - (before[region]?.[operation] ?? 0);
      if (delta > 0) calls[operation] = (calls[operation] ?? 0) + delta;
    }
  }
  return calls;
}

/**
 * The paths of a scenario's requests, numbered across all of its runs against one server:
 * the runs of a new-ids scenario each ask for ids no run asked for before (numbering them
 * again from 0 in every run made every run but the first read keys the first had created).
 */
export class PathSequence {
  private n = 0;

  constructor(private readonly pathOf: (n: number) => string) {}

  next(): string {
    return this.pathOf(this.n++);
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const before = options.kmsUrl ? await kmsCounters(options.kmsUrl) : undefined;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: options.paths.next() }) }],
  });
  const requests = result.requests.total;
  const kmsCalls = before && options.kmsUrl ? callsBetween(before, await kmsCounters(options.kmsUrl)) : {};
  const totalCalls = Object.values(kmsCalls).reduce((sum, count) => sum + count, 0);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    requests,
    kmsCallsPerRequest: before && requests > 0 ? totalCalls / requests : undefined,
    kmsCalls,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
