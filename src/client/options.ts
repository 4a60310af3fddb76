import { RkmsConfigError } from './errors.js';

/** A bearer token, or a function that returns the current one (called for every attempt, so it may rotate). */
export type TokenSource = string | (() => string | Promise<string>);

export interface CacheOptions {
  /** How long a key stays in memory after it was fetched. */
  ttlMs: number;
  /** At most this many keys in memory; the least recently used is wiped first. Default 1000. */
  maxEntries?: number;
}

export interface RetryOptions {
  /** First backoff delay; it doubles with each failure of the same replica. Default 100 ms. */
  baseDelayMs?: number;
  /** Longest backoff delay (Retry-After may ask for longer, up to the deadline). Default 2000 ms. */
  maxDelayMs?: number;
  /** Attempts per call, over all replicas, the first included. Default 8. */
  maxAttempts?: number;
}

export interface RkmsClientOptions {
  /**
   * Base URLs of the RKMS replicas (or of one load balancer), e.g. `http://rkms-a:8080` or
   * `https://rkms.internal/api/v1`. A call goes to one of them and fails over to the others.
   */
  urls: readonly string[];
  /** Sent as `Authorization: Bearer <token>` when RKMS requires authentication. */
  token?: TokenSource;
  /** Time budget of one call, retries and backoff included. Default 10000 ms. */
  deadlineMs?: number;
  /** Time budget of one attempt on one replica. Default 5000 ms (never more than what is left of the deadline). */
  attemptTimeoutMs?: number;
  retry?: RetryOptions;
  /** Keep keys in memory for a while; off by default. See docs/client.md for what a cache means for deletion. */
  cache?: CacheOptions | false;
  /** The fetch implementation; default the global fetch. */
  fetch?: typeof fetch;
  /** Milliseconds, for deadlines, backoff and cache expiry. For tests; default Date.now. */
  clock?: () => number;
  /** Waits between attempts. For tests; default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Source of backoff jitter, in [0, 1). For tests; default Math.random. */
  random?: () => number;
}

/** Options of one call. */
export interface CallOptions {
  /** Replaces the client's `deadlineMs` for this call. */
  deadlineMs?: number;
  /** Cancels the call; it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface ResolvedOptions {
  readonly urls: readonly string[];
  readonly token: TokenSource | undefined;
  readonly deadlineMs: number;
  readonly attemptTimeoutMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
  readonly cache: Required<CacheOptions> | undefined;
  readonly fetch: typeof fetch;
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

/** Checks the options and fills in defaults; throws RkmsConfigError with what to fix. */
export function resolveOptions(options: RkmsClientOptions): ResolvedOptions {
  const urls = (options.urls as readonly unknown[] | undefined) ?? [];
  if (!Array.isArray(urls) || urls.length === 0)
    throw new RkmsConfigError('urls: give at least one RKMS URL, e.g. ["http://127.0.0.1:8080"]');
  const token = options.token;
  if (token !== undefined && typeof token !== 'function' && (typeof token !== 'string' || token === ''))
    throw new RkmsConfigError('token: give a non-empty string or a function that returns one');
  const cache = options.cache === undefined || options.cache === false ? undefined : options.cache;
  return {
    urls: urls.map(baseUrl),
    token,
    deadlineMs: positive('deadlineMs', options.deadlineMs ?? 10_000),
    attemptTimeoutMs: positive('attemptTimeoutMs', options.attemptTimeoutMs ?? 5_000),
    baseDelayMs: positive('retry.baseDelayMs', options.retry?.baseDelayMs ?? 100),
    maxDelayMs: positive('retry.maxDelayMs', options.retry?.maxDelayMs ?? 2_000),
    maxAttempts: Math.floor(positive('retry.maxAttempts', options.retry?.maxAttempts ?? 8, 'attempts')),
    cache: cache && {
      ttlMs: positive('cache.ttlMs', cache.ttlMs),
      maxEntries: Math.floor(positive('cache.maxEntries', cache.maxEntries ?? 1_000, 'entries')),
    },
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    clock: options.clock ?? Date.now,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: options.random ?? Math.random,
  };
}

/** An http(s) URL without query or fragment, and without a trailing slash, so paths append cleanly. */
function baseUrl(value: unknown): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new RkmsConfigError(`urls: '${String(value)}' is not a URL; write e.g. http://rkms-a:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new RkmsConfigError(`urls: '${String(value)}' is not an http or https URL`);
  if (url.search || url.hash || url.username || url.password)
    throw new RkmsConfigError(
      `urls: '${String(value)}' must not carry a query, a fragment or credentials (use token)`,
    );
  return url.href.replace(/\/+$/, '');
}

function positive(name: string, value: number, unit = 'milliseconds'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new RkmsConfigError(`${name}: give a positive number of ${unit}`);
  return value;
}
