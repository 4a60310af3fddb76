import { AuditUnavailableError } from '../audit/errors.js';
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from '../auth/errors.js';
import { KmsUnavailableError } from '../kms/errors.js';
import { MalformedItemError, StoreUnavailableError } from '../store/store.js';
import {
  KeyContentionError,
  KeyDeletedError,
  KeyExistsError,
  KeyIntegrityError,
  KeyNotFoundError,
  KeyPendingDeletionError,
} from './errors.js';

/**
 * How a key operation can end, named as callers see it (the `error_type` of HTTP bodies
 * and of gRPC's `rkms-error-type` trailer), with how loud it is in the log and when a
 * retry may succeed. Each transport adds only its own status or code per type.
 */
export interface FailureType {
  type: string;
  logLevel: 'info' | 'warn' | 'error';
  /** Seconds: when a retry may succeed (Retry-After, RetryInfo). */
  retryAfter?: number;
}

type ErrorClass = abstract new (...args: never[]) => Error;

const FAILURE_TYPES: readonly [ErrorClass, FailureType][] = [
  [UnauthorizedError, { type: 'Unauthorized', logLevel: 'info' }],
  [ForbiddenError, { type: 'Forbidden', logLevel: 'info' }],
  [TooManyRequestsError, { type: 'TooManyRequests', logLevel: 'info' }],
  [AuditUnavailableError, { type: 'AuditUnavailable', retryAfter: 5, logLevel: 'error' }],
  [KeyNotFoundError, { type: 'KeyNotFound', logLevel: 'info' }],
  [KeyPendingDeletionError, { type: 'KeyPendingDeletion', logLevel: 'info' }],
  [KeyExistsError, { type: 'KeyExists', logLevel: 'info' }],
  // Corrupted or foreign key material: the caller cannot recover, an operator must.
  [KeyIntegrityError, { type: 'KeyIntegrityError', logLevel: 'error' }],
  [MalformedItemError, { type: 'KeyIntegrityError', logLevel: 'error' }],
  [KeyDeletedError, { type: 'KeyDeleted', logLevel: 'info' }],
  [KmsUnavailableError, { type: 'KmsUnavailable', retryAfter: 2, logLevel: 'warn' }],
  [StoreUnavailableError, { type: 'StoreUnavailable', retryAfter: 2, logLevel: 'warn' }],
  [KeyContentionError, { type: 'KeyContention', retryAfter: 1, logLevel: 'warn' }],
];

/** The failure type of a typed error; undefined for anything else (a bug: InternalError). */
export function failureTypeOf(error: unknown): FailureType | undefined {
  if (!(error instanceof Error)) return undefined;
  const known = FAILURE_TYPES.find(([type]) => error instanceof type)?.[1];
  if (!known) return undefined;
  // A rate limit's delay depends on when the caller's window ends.
  return error instanceof TooManyRequestsError ? { ...known, retryAfter: error.retryAfterSeconds } : known;
}

/** What the log gets beyond a failure's message: each region's or the store's raw error, the audit's cause. */
export function failureLogDetails(error: unknown): Record<string, unknown> {
  if (error instanceof KmsUnavailableError) {
    return {
      regions: error.failures.map((f) => ({
        region: f.region,
        kind: f.kind,
        reason: f.reason,
        detail: f.detail,
      })),
    };
  }
  if (error instanceof StoreUnavailableError && error.detail) return { detail: error.detail };
  // Why the audit line could not be written (ENOSPC, EACCES, ...).
  if (error instanceof AuditUnavailableError && error.cause !== undefined) return { err: error.cause };
  return {};
}
