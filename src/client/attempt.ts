import { RkmsError } from './errors.js';

/** One call of the RKMS API, as the replicas all serve it. */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: '/key' | '/key/restore';
  id: string;
}

/** An HTTP answer from a replica, whatever its status. */
export interface Answer {
  status: number;
  /** The parsed JSON body; undefined when the body was empty or not JSON. */
  body: unknown;
  requestId: string | undefined;
  retryAfterSeconds: number | undefined;
}

export interface AttemptContext {
  fetch: typeof fetch;
  baseUrl: string;
  token: string | undefined;
  timeoutMs: number;
  /** The caller's signal: its abort ends the attempt with the signal's reason. */
  signal: AbortSignal | undefined;
  /** Seconds since the epoch, to read a Retry-After given as an HTTP date. */
  now: number;
}

/**
 * Connection errors that happen before the request left this process: the server
 * never saw it, so even a create is safe to send again as if it were the first.
 */
const NEVER_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** A failure without an HTTP answer: the connection failed or the attempt timed out. */
export class NoAnswer extends RkmsError {
  /** False only when the request certainly never reached the server. */
  readonly mayHaveApplied: boolean;

  constructor(baseUrl: string, code: string, cause: unknown) {
    const timeout = code === 'Timeout';
    super({
      errorType: timeout ? 'Timeout' : 'ConnectionFailed',
      message: timeout ? `${baseUrl} did not answer in time` : `could not reach ${baseUrl}: ${code}`,
      url: baseUrl,
      retryable: true,
      cause,
    });
    this.mayHaveApplied = !NEVER_SENT.has(code);
  }
}

/** Sends one request to one replica and reads its whole answer, within `timeoutMs`. */
export async function attempt(request: ApiRequest, context: AttemptContext): Promise<Answer> {
  const { signal, baseUrl } = context;
  signal?.throwIfAborted();
  const timeout = new AbortController();
  const timer = setTimeout(() => {
    timeout.abort();
  }, context.timeoutMs);
  const onCallerAbort = () => {
    timeout.abort();
  };
  signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    const response = await context.fetch(`${baseUrl}${request.path}?id=${encodeURIComponent(request.id)}`, {
      method: request.method,
      headers: {
        accept: 'application/json',
        ...(context.token === undefined ? {} : { authorization: `Bearer ${context.token}` }),
      },
      signal: timeout.signal,
      redirect: 'error',
    });
    const text = await response.text();
    return {
      status: response.status,
      body: parseJson(text),
      requestId: response.headers.get('x-request-id') ?? undefined,
      retryAfterSeconds: retryAfterSeconds(response.headers.get('retry-after'), context.now),
    };
  } catch (error) {
    signal?.throwIfAborted();
    if (timeout.signal.aborted) throw new NoAnswer(baseUrl, 'Timeout', error);
    const code = connectionErrorCode(error);
    if (code === undefined) throw error;
    throw new NoAnswer(baseUrl, code, error);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onCallerAbort);
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Retry-After in seconds: an integer, or an HTTP date relative to `now` (seconds).
 * Undefined when absent or unreadable.
 */
export function retryAfterSeconds(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date / 1000 - now);
}

/**
 * The system error code behind a failed fetch (`TypeError: fetch failed`, with the
 * socket's error as its cause), or undefined for errors that are not about the connection.
 */
function connectionErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  // A body read that fails after the headers came throws the socket error itself.
  const direct = codeOf(error);
  if (direct) return direct;
  if (!(error instanceof TypeError)) return undefined;
  const cause: unknown = error.cause;
  // Happy eyeballs: every address failed, and each one's error is in the aggregate.
  if (cause instanceof AggregateError) return codeOf(cause) ?? codeOf(cause.errors[0]) ?? 'ConnectionError';
  return codeOf(cause) ?? 'ConnectionError';
}

/** A socket's error code (ECONNRESET, UND_ERR_SOCKET), not a Node API's (ERR_INVALID_URL). */
function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code) ? code : undefined;
}
