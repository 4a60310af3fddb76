import { Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { AuditUnavailableError } from '../audit/errors.js';
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from '../auth/errors.js';
import {
  KeyContentionError,
  KeyDeletedError,
  KeyExistsError,
  KeyIntegrityError,
  KeyNotFoundError,
  KeyPendingDeletionError,
} from '../keys/errors.js';
import { KmsUnavailableError } from '../kms/errors.js';
import { MalformedItemError, StoreUnavailableError } from '../store/store.js';
import { encodeStatusDetails } from './status-details.js';

/** A request RKMS cannot serve as sent: no valid id. */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
}

interface Mapping {
  code: Code;
  /** The HTTP API's error_type for the same failure. */
  type: string;
  /** Seconds, for UNAVAILABLE: when a retry may succeed (HTTP's Retry-After). */
  retryAfter?: number;
  logLevel: 'info' | 'warn' | 'error';
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** Typed errors → gRPC status, mirroring src/http/errors.ts status for status. */
const MAPPINGS: readonly [ErrorClass, Mapping][] = [
  [InvalidRequestError, { code: Code.INVALID_ARGUMENT, type: 'BadRequest', logLevel: 'info' }],
  // Access control (src/auth) answers with the HTTP API's error types and messages.
  [UnauthorizedError, { code: Code.UNAUTHENTICATED, type: 'Unauthorized', logLevel: 'info' }],
  [ForbiddenError, { code: Code.PERMISSION_DENIED, type: 'Forbidden', logLevel: 'info' }],
  // Its RetryInfo says when the caller's window ends (see classify).
  [TooManyRequestsError, { code: Code.RESOURCE_EXHAUSTED, type: 'TooManyRequests', logLevel: 'info' }],
  [
    AuditUnavailableError,
    { code: Code.UNAVAILABLE, type: 'AuditUnavailable', retryAfter: 5, logLevel: 'error' },
  ],
  [KeyNotFoundError, { code: Code.NOT_FOUND, type: 'KeyNotFound', logLevel: 'info' }],
  // The id's state forbids the call until someone changes it: RestoreKey, or CreateKey once destroyed.
  [KeyPendingDeletionError, { code: Code.FAILED_PRECONDITION, type: 'KeyPendingDeletion', logLevel: 'info' }],
  [KeyDeletedError, { code: Code.FAILED_PRECONDITION, type: 'KeyDeleted', logLevel: 'info' }],
  [KeyExistsError, { code: Code.ALREADY_EXISTS, type: 'KeyExists', logLevel: 'info' }],
  // Corrupted or foreign key material: unrecoverable by the caller, needs an operator.
  [KeyIntegrityError, { code: Code.DATA_LOSS, type: 'KeyIntegrityError', logLevel: 'error' }],
  [MalformedItemError, { code: Code.DATA_LOSS, type: 'KeyIntegrityError', logLevel: 'error' }],
  [KmsUnavailableError, { code: Code.UNAVAILABLE, type: 'KmsUnavailable', retryAfter: 2, logLevel: 'warn' }],
  [
    StoreUnavailableError,
    { code: Code.UNAVAILABLE, type: 'StoreUnavailable', retryAfter: 2, logLevel: 'warn' },
  ],
  [KeyContentionError, { code: Code.UNAVAILABLE, type: 'KeyContention', retryAfter: 1, logLevel: 'warn' }],
];

/** A failed call's status, message and trailers. */
export interface CallFailure {
  error: Partial<ServiceError> & { code: Code; details: string; metadata: Metadata };
  errorType: string;
}

/**
 * The status a failed call answers with: the HTTP API's message, its error_type in the
 * `rkms-error-type` trailer and in a google.rpc.ErrorInfo, and for UNAVAILABLE and
 * RESOURCE_EXHAUSTED (a rate limit) when to retry.
 * Only this function builds error answers; it also logs the failure as the HTTP API does,
 * under `logMessage`.
 */
export function failureOf(
  error: unknown,
  requestId: string,
  trailer: Metadata,
  log: Logger,
  logMessage = 'call failed',
): CallFailure {
  const known = classify(error);
  const { code, type, message, retryAfter } = known ?? {
    code: Code.INTERNAL,
    type: 'InternalError',
    message: `an unexpected error occurred (request ${requestId}); the server log has the details`,
    retryAfter: undefined,
  };
  if (known) {
    log[known.logLevel](
      { errorType: type, code: Code[code], reason: message, ...logDetails(error) },
      logMessage,
    );
  } else {
    log.error({ err: error, errorType: type, code: Code[code] }, 'unexpected error');
  }
  const metadata = trailer.clone();
  metadata.set('rkms-error-type', type);
  if (retryAfter !== undefined) metadata.set('retry-after', String(retryAfter));
  metadata.set(
    'grpc-status-details-bin',
    encodeStatusDetails({ code, message, errorType: type, requestId, retryAfterSeconds: retryAfter }),
  );
  return { error: { code, details: message, metadata }, errorType: type };
}

function classify(error: unknown): (Mapping & { message: string }) | undefined {
  if (!(error instanceof Error)) return undefined;
  const mapping = MAPPINGS.find(([type]) => error instanceof type)?.[1];
  if (!mapping) return undefined;
  const retryAfter = error instanceof TooManyRequestsError ? error.retryAfterSeconds : mapping.retryAfter;
  return { ...mapping, message: error.message, ...(retryAfter === undefined ? {} : { retryAfter }) };
}

/** What the log gets beyond the message: each region's or the store's raw error. */
function logDetails(error: unknown): Record<string, unknown> {
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
