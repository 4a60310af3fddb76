import { Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { failureLogDetails, failureTypeOf, type FailureType } from '../keys/failure-types.js';
import { encodeStatusDetails } from './status-details.js';

/** A request RKMS cannot serve as sent: no valid id. */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
}

/** A call whose request did not arrive within `[server] receive_timeout_ms` (HTTP's 408). */
export class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
  constructor(timeoutMs: number) {
    super(
      `the request message did not arrive within server.receive_timeout_ms (${timeoutMs} ms) of the call's headers`,
    );
  }
}

/** The gRPC status each failure type answers with. */
const CODE: Record<string, Code> = {
  BadRequest: Code.INVALID_ARGUMENT,
  RequestTimeout: Code.DEADLINE_EXCEEDED,
  Unauthorized: Code.UNAUTHENTICATED,
  Forbidden: Code.PERMISSION_DENIED,
  TooManyRequests: Code.RESOURCE_EXHAUSTED,
  AuditUnavailable: Code.UNAVAILABLE,
  KeyNotFound: Code.NOT_FOUND,
  // The id's state forbids the call until someone changes it: RestoreKey, or CreateKey once destroyed.
  KeyPendingDeletion: Code.FAILED_PRECONDITION,
  KeyDeleted: Code.FAILED_PRECONDITION,
  KeyExists: Code.ALREADY_EXISTS,
  // Corrupted or foreign key material: unrecoverable by the caller, needs an operator.
  KeyIntegrityError: Code.DATA_LOSS,
  KmsUnavailable: Code.UNAVAILABLE,
  StoreUnavailable: Code.UNAVAILABLE,
  KeyContention: Code.UNAVAILABLE,
};

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
      { errorType: type, code: Code[code], reason: message, ...failureLogDetails(error) },
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

function classify(error: unknown): (FailureType & { code: Code; message: string }) | undefined {
  const failure =
    error instanceof InvalidRequestError
      ? { type: 'BadRequest', logLevel: 'info' as const }
      : error instanceof RequestTimeoutError
        ? { type: 'RequestTimeout', logLevel: 'info' as const }
        : failureTypeOf(error);
  if (!failure || !(error instanceof Error)) return undefined;
  return { ...failure, code: CODE[failure.type] ?? Code.INTERNAL, message: error.message };
}
