import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../auth/errors.js';
import { failureLogDetails, failureTypeOf, type FailureType } from '../keys/failure-types.js';
import { MAX_ID_LENGTH } from '../keys/id.js';
import { cutByTimeout, REQUEST_TIMEOUT_MESSAGE } from './security/timed-out.js';

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

/** The status each failure type answers with. */
const STATUS: Record<string, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  KeyNotFound: 404,
  KeyPendingDeletion: 409,
  KeyExists: 409,
  KeyIntegrityError: 409,
  KeyDeleted: 410,
  HostNotAllowed: 421,
  TooManyRequests: 429,
  AuditUnavailable: 503,
  ServiceUnavailable: 503,
  KmsUnavailable: 503,
  StoreUnavailable: 503,
  KeyContention: 503,
};

/** Failures only HTTP has (the request as it arrived), beside the key operations' own (failure-types.ts). */
function httpFailureTypeOf(error: unknown): FailureType | undefined {
  if (error instanceof BadRequestError) return { type: 'BadRequest', logLevel: 'info' };
  if (error instanceof HostNotAllowedError) return { type: 'HostNotAllowed', logLevel: 'info' };
  if (error instanceof ConnectionSpentError)
    return { type: 'ServiceUnavailable', retryAfter: 0, logLevel: 'info' };
  return failureTypeOf(error);
}

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
  ...Object.entries(STATUS),
]);

/** The status HTTP answers an error_type with; 500 for one it does not know (InternalError). */
export function statusOfErrorType(type: string): number {
  return STATUS_OF_TYPE.get(type) ?? 500;
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (cutByTimeout(request.raw)) {
    request.log.info({ errorType: 'RequestTimeout', reason: error.message }, 'request failed');
    return reply.status(408).send(errorBody('RequestTimeout', REQUEST_TIMEOUT_MESSAGE, request.id));
  }
  const failure = httpFailureTypeOf(error);
  if (failure) {
    request.log[failure.logLevel](
      { errorType: failure.type, reason: error.message, ...failureLogDetails(error) },
      'request failed',
    );
    if (failure.retryAfter !== undefined) void reply.header('retry-after', String(failure.retryAfter));
    if (error instanceof UnauthorizedError) void reply.header('www-authenticate', error.challenge);
    return reply.status(STATUS[failure.type] ?? 500).send(errorBody(failure.type, error.message, request.id));
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
  // Only an escape can be undecodable; most URLs have none.
  const query = request.url.includes('%') ? request.url.split('?', 2)[1] : undefined;
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
