import type { Answer } from './attempt.js';
import { RkmsError } from './errors.js';

/** An answer, read once: success, worth another attempt, or final. Every retry decision reads this. */
export type Verdict =
  | { kind: 'success' }
  /** The replica is overloaded or a dependency is down: another attempt may succeed. */
  | { kind: 'retry'; error: RkmsError; mayHaveApplied: boolean }
  /** The request itself is the problem (or the server has a bug): the same request fails again. */
  | { kind: 'final'; error: RkmsError };

/** Types for answers whose body carries none (a proxy's page, an empty body). */
const STATUS_TYPES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

/** 502 and 504 come from a load balancer in front of a replica that is gone or slow. */
const RETRYABLE = new Set([429, 502, 503, 504]);

export function classify(answer: Answer, url: string): Verdict {
  if (answer.status >= 200 && answer.status < 300) return { kind: 'success' };
  const retryable = RETRYABLE.has(answer.status);
  const error = answerError(answer, url, retryable);
  if (!retryable) return { kind: 'final', error };
  // A 429 is refused before any work; a 503 may come after a write that did happen.
  return { kind: 'retry', error, mayHaveApplied: answer.status !== 429 };
}

/** An RkmsError from an error answer: the server's type and message, or the status's. */
export function answerError(answer: Answer, url: string, retryable = false, attempts = 1): RkmsError {
  const body = answer.body as { error_type?: unknown; error_message?: unknown } | undefined;
  const errorType =
    typeof body?.error_type === 'string'
      ? body.error_type
      : (STATUS_TYPES[answer.status] ?? `HTTP${answer.status}`);
  const detail =
    typeof body?.error_message === 'string' ? body.error_message : `HTTP ${answer.status} from ${url}`;
  const request = answer.requestId === undefined ? '' : `, request ${answer.requestId}`;
  return new RkmsError({
    errorType,
    message: `${errorType}: ${detail} (HTTP ${answer.status}${request})`,
    status: answer.status,
    requestId: answer.requestId,
    url,
    retryAfterSeconds: answer.retryAfterSeconds,
    retryable,
    attempts,
  });
}
