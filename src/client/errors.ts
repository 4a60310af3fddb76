/**
 * What went wrong, by name. The server's own `error_type`s, then the client's: the
 * client names the failures that never produced an RKMS answer.
 */
export type RkmsErrorType =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'KeyNotFound'
  | 'KeyExists'
  | 'KeyPendingDeletion'
  | 'KeyIntegrityError'
  | 'KeyDeleted'
  | 'TooManyRequests'
  | 'KmsUnavailable'
  | 'StoreUnavailable'
  | 'KeyContention'
  | 'AuditUnavailable'
  | 'InternalError'
  /** No replica could be reached (refused, reset, DNS): the client never got an answer. */
  | 'ConnectionFailed'
  /** One attempt took longer than `attemptTimeoutMs`. */
  | 'Timeout'
  /** The call's deadline passed before any replica answered successfully. */
  | 'DeadlineExceeded'
  /** The answer was not an RKMS answer: not JSON, or a body without the expected members. */
  | 'InvalidResponse'
  | (string & {});

export interface RkmsErrorDetails {
  errorType: RkmsErrorType;
  message: string;
  /** HTTP status of the answer; undefined when no answer arrived. */
  status?: number | undefined;
  /** The server's `x-request-id`, to find the call in the server's log. */
  requestId?: string | undefined;
  /** The replica that gave this answer (or failed to). */
  url?: string | undefined;
  /** Seconds from the server's Retry-After header, when it sent one. */
  retryAfterSeconds?: number | undefined;
  /** Whether the same call may succeed later (a 503, a 429, a lost connection). */
  retryable: boolean;
  /** Attempts the call made, over every replica, before it gave up; 1 when unknown. */
  attempts?: number;
  cause?: unknown;
}

/**
 * A call to RKMS that failed. Messages name the id's call and the replica, never
 * key material.
 */
export class RkmsError extends Error {
  override name = 'RkmsError';
  readonly errorType: RkmsErrorType;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly url: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly retryable: boolean;
  readonly attempts: number;
  /** Kept to copy the error, out of sight of loggers. */
  readonly #details: RkmsErrorDetails;

  constructor(details: RkmsErrorDetails) {
    super(details.message, details.cause === undefined ? undefined : { cause: details.cause });
    this.#details = details;
    this.errorType = details.errorType;
    this.attempts = details.attempts ?? 1;
    this.status = details.status;
    this.requestId = details.requestId;
    this.url = details.url;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.retryable = details.retryable;
  }

  /** The same error, as the end of a call that made `attempts` attempts. */
  afterAttempts(attempts: number): RkmsError {
    return new RkmsError({ ...this.#details, attempts });
  }
}

/** An envelope that cannot be opened: malformed, of an unknown version, or not authentic for this id and AAD. */
export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

/** Options the client cannot work with; the message says what to fix. */
export class RkmsConfigError extends Error {
  override name = 'RkmsConfigError';
}
