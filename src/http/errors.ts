import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
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
import { MAX_ID_LENGTH } from '../keys/id.js';
import { KmsUnavailableError } from '../kms/errors.js';
import { MalformedItemError, StoreUnavailableError } from '../store/store.js';

/** A request RKMS cannot read, found before the route's schema runs. */
export class BadRequestError extends Error {
  override name = 'BadRequestError';
}

/** A Host header this server does not answer to (DNS-rebinding protection). */
export class HostNotAllowedError extends Error {
  override name = 'HostNotAllowedError';
}

/** A connection that carried `max_requests_per_socket` requests: the client opens a new one. */
export class ConnectionSpentError extends Error {
  override name = 'ConnectionSpentError';
}

interface Mapping {
  status: number;
  type: string;
  /** Seconds, for 503s: when a retry may succeed. */
  retryAfter?: number;
  /** How loud the failure is in the log: an integrity failure needs an operator. */
  logLevel: 'info' | 'warn' | 'error';
  /** Headers the answer needs besides (a challenge, a delay that depends on the error). */
  headers?: (error: Error) => Partial<Record<string, string>>;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** Typed errors → status. Handlers throw; only this file builds error bodies. */
const MAPPINGS: readonly [ErrorClass, Mapping][] = [
  [BadRequestError, { status: 400, type: 'BadRequest', logLevel: 'info' }],
  [
    UnauthorizedError,
    {
      status: 401,
      type: 'Unauthorized',
      logLevel: 'info',
      headers: (error) => (error instanceof UnauthorizedError ? { 'www-authenticate': error.challenge } : {}),
    },
  ],
  [ForbiddenError, { status: 403, type: 'Forbidden', logLevel: 'info' }],
  [HostNotAllowedError, { status: 421, type: 'HostNotAllowed', logLevel: 'info' }],
  [
    TooManyRequestsError,
    {
      status: 429,
      type: 'TooManyRequests',
      logLevel: 'info',
      headers: (error) =>
        error instanceof TooManyRequestsError ? { 'retry-after': String(error.retryAfterSeconds) } : {},
    },
  ],
  [AuditUnavailableError, { status: 503, type: 'AuditUnavailable', retryAfter: 5, logLevel: 'error' }],
  [ConnectionSpentError, { status: 503, type: 'ServiceUnavailable', retryAfter: 0, logLevel: 'info' }],
  [KeyNotFoundError, { status: 404, type: 'KeyNotFound', logLevel: 'info' }],
  [KeyPendingDeletionError, { status: 409, type: 'KeyPendingDeletion', logLevel: 'info' }],
  [KeyExistsError, { status: 409, type: 'KeyExists', logLevel: 'info' }],
  [KeyIntegrityError, { status: 409, type: 'KeyIntegrityError', logLevel: 'error' }],
  [MalformedItemError, { status: 409, type: 'KeyIntegrityError', logLevel: 'error' }],
  [KeyDeletedError, { status: 410, type: 'KeyDeleted', logLevel: 'info' }],
  [KmsUnavailableError, { status: 503, type: 'KmsUnavailable', retryAfter: 2, logLevel: 'warn' }],
  [StoreUnavailableError, { status: 503, type: 'StoreUnavailable', retryAfter: 2, logLevel: 'warn' }],
  [KeyContentionError, { status: 503, type: 'KeyContention', retryAfter: 1, logLevel: 'warn' }],
];

/** Fastify's and Node's client errors, by status. */
export const CLIENT_ERROR_TYPES: Record<number, string> = {
  400: 'BadRequest',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  408: 'RequestTimeout',
  411: 'LengthRequired',
  413: 'PayloadTooLarge',
  414: 'URITooLong',
  415: 'UnsupportedMediaType',
  417: 'ExpectationFailed',
  431: 'RequestHeaderFieldsTooLarge',
};

const STATUS_OF_TYPE = new Map<string, number>([
  ...Object.entries(CLIENT_ERROR_TYPES).map(([status, type]) => [type, Number(status)] as const),
  ...MAPPINGS.map(([, { type, status }]) => [type, status] as const),
]);

/** The status HTTP answers an error_type with; 500 for one it does not know (InternalError). */
export function statusOfErrorType(type: string): number {
  return STATUS_OF_TYPE.get(type) ?? 500;
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const mapping = MAPPINGS.find(([type]) => error instanceof type)?.[1];
  if (mapping) {
    request.log[mapping.logLevel](
      { errorType: mapping.type, reason: error.message, ...logDetails(error) },
      'request failed',
    );
    if (mapping.retryAfter !== undefined) void reply.header('retry-after', String(mapping.retryAfter));
    for (const [name, value] of Object.entries(mapping.headers?.(error) ?? {})) {
      if (value !== undefined) void reply.header(name, value);
    }
    return reply.status(mapping.status).send(errorBody(mapping.type, error.message, request.id));
  }
  if (error.validation) {
    return reply.status(400).send(errorBody('BadRequest', describeValidation(error), request.id));
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    request.log.info({ err: error }, 'client error');
    return reply
      .status(error.statusCode)
      .send(errorBody(CLIENT_ERROR_TYPES[error.statusCode] ?? 'BadRequest', error.message, request.id));
  }
  request.log.error({ err: error }, 'unexpected error');
  return reply
    .status(500)
    .send(
      errorBody(
        'InternalError',
        `an unexpected error occurred (request ${request.id}); the server log has the details`,
        request.id,
      ),
    );
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return reply
    .status(404)
    .send(
      errorBody(
        'NotFound',
        `no route ${request.method} ${request.url.split('?')[0]}: use GET /key?id=<id>, POST /key?id=<id>, DELETE /key?id=<id> or POST /key/restore?id=<id>`,
        request.id,
      ),
    );
}

/**
 * The query parser keeps an undecodable value as its raw text, so `%ED%A0%80` would
 * become the id "%ED%A0%80" (the same id as its properly escaped form). Refuse it.
 */
export function refuseUndecodableQuery(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: (err?: Error) => void,
): void {
  const query = request.url.split('?', 2)[1];
  try {
    if (query) decodeURIComponent(query);
  } catch {
    done(
      new BadRequestError(
        'the query string is not valid percent-encoded UTF-8: escape ids with encodeURIComponent',
      ),
    );
    return;
  }
  done();
}

/** What the log gets beyond the message: each region's or the store's raw error. */
function logDetails(error: Error): Record<string, unknown> {
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
  return {};
}

/**
 * Every error answer's body: the original RKMS's two fields, and the request id under which
 * the server log keeps what the message leaves out (endpoints, ARNs, SDK messages).
 */
export function errorBody(type: string, message: string, requestId: string) {
  return { error_type: type, error_message: message, request_id: requestId };
}

/** A message that says what to fix, for the id query parameter. */
function describeValidation(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return error.message;
  const missing =
    first.keyword === 'required' && (first.params as { missingProperty?: string }).missingProperty;
  if (missing) return `the query parameter ${missing} is required, e.g. /key?${missing}=my-id`;
  switch (first.keyword) {
    case 'minLength':
      return 'the query parameter id must not be empty';
    case 'maxLength':
      return `the query parameter id is too long: at most ${MAX_ID_LENGTH} characters`;
    case 'pattern':
      return 'the query parameter id must be valid Unicode text without control characters';
    case 'type':
      return 'the query parameter id must be given exactly once, as text';
    default:
      return `invalid request: ${error.message}`;
  }
}
