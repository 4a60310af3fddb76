import Type from 'typebox';
import { ID_PATTERN, MAX_ID_LENGTH } from '../keys/id.js';

/** `?id=<id>`: the one query parameter every key route takes. Other parameters are ignored. */
export const IdQuery = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: MAX_ID_LENGTH,
    // Control characters and lone UTF-16 surrogates (invalid Unicode) are refused.
    pattern: ID_PATTERN.replace(']+$', '\\ud800-\\udfff]+$'),
    description:
      'The id whose key this is (a tenant, a user, a table, a file): 1–512 characters of Unicode text ' +
      'without control characters, percent-encoded (encodeURIComponent), given once.',
    example: 'tenant-42',
  }),
});

const ErrorFields = {
  error_type: Type.String({ description: 'What went wrong, as a name clients can test (see the README)' }),
  error_message: Type.String({
    description: 'What to fix, or what is down; never a key, an endpoint or an ARN',
  }),
  request_id: Type.String({ description: 'The request id (also in x-request-id): the log has the details' }),
};

/**
 * The header every answer carries. Headers are plain JSON Schema (OpenAPI 3.0's subset): they
 * describe the answers in the OpenAPI document and are never validated.
 */
export const requestIdHeader = {
  'x-request-id': {
    type: 'string',
    description:
      "The request id: the caller's x-request-id when it is 1–128 characters of A–Z a–z 0–9 . _ : @ / + = -, " +
      'otherwise a new UUID. Every log line about the request carries it.',
  },
};

const retryAfterHeader = {
  'retry-after': { type: 'integer', minimum: 0, description: 'Seconds to wait before retrying' },
};

/** The error body of the original RKMS, described for one status of one route. */
export function errorResponse(
  description: string,
  example: { error_type: string; error_message: string },
  headers: Record<string, unknown> = {},
) {
  return Type.Object(ErrorFields, {
    description,
    example: { ...example, request_id: '6f1c2b8e-3f4a-4c55-9d1e-2b7a9c0d4e11' },
    headers: { ...requestIdHeader, ...headers },
  });
}

/** The error body, for answers built outside the route schemas (Node's and Fastify's errors). */
export const ErrorBody = Type.Object(ErrorFields);

export const KeyBody = Type.Object(
  {
    id: Type.String({ description: 'The id, as given' }),
    key: Type.String({
      description: 'The data key, base64 (32 bytes unless kms.data_key_size_in_bytes says otherwise)',
    }),
  },
  {
    description: 'The data key of the id. The answer carries Cache-Control: no-store.',
    example: { id: 'tenant-42', key: '1kZ4L+m6Q1uh4z2wdr15YBWRxyu0VJJiJ7aTKv8UpWc=' },
    headers: {
      ...requestIdHeader,
      'cache-control': {
        type: 'string',
        enum: ['no-store'],
        description: 'No proxy or browser may keep a key',
      },
    },
  },
);

export const KeyStatusBody = (description: string, example: Record<string, string>) =>
  Type.Object(
    {
      id: Type.String({ description: 'The id, as given' }),
      state: Type.Union([Type.Literal('Enabled'), Type.Literal('PendingDeletion')], {
        // No Deleted: KeyService reports a destroyed key as KeyDeletedError, never as a status.
        description:
          'Enabled: served. PendingDeletion: refused (409) until restored or destroyed on deletion_date. ' +
          'A destroyed key is never a state: the call answers 410 KeyDeleted',
      }),
      deletion_date: Type.Optional(Type.String({ description: 'ISO-8601: when a pending key is destroyed' })),
    },
    { description, example, headers: requestIdHeader },
  );

/** The errors every key route can answer. */
export const commonErrors = {
  400: errorResponse('BadRequest: the id is missing, empty, too long, given twice or not valid text', {
    error_type: 'BadRequest',
    error_message: 'the query parameter id is required, e.g. /key?id=my-id',
  }),
  500: errorResponse('InternalError: a bug; the message has the request id to find it in the log', {
    error_type: 'InternalError',
    error_message: 'an unexpected error occurred (request 6f1c…); the server log has the details',
  }),
  401: errorResponse(
    'Unauthorized: no token, or one RKMS does not know (clients are declared); WWW-Authenticate: Bearer',
    {
      error_type: 'Unauthorized',
      error_message: 'this route needs a token: Authorization: Bearer <token>',
    },
    {
      'www-authenticate': {
        type: 'string',
        description: 'Bearer realm="rkms", with error="invalid_token" when a token was sent but is not known',
      },
    },
  ),
  403: errorResponse('Forbidden: the client may not use this id or action; the message names the rule', {
    error_type: 'Forbidden',
    error_message: 'client "billing" may not get id "payments/7": its ids are billing/*, shared-report',
  }),
  421: errorResponse('HostNotAllowed: a Host header this server does not answer to', {
    error_type: 'HostNotAllowed',
    error_message: 'this server does not answer to host "evil.example"',
  }),
  429: errorResponse(
    'TooManyRequests: over a rate limit; Retry-After says when to retry',
    {
      error_type: 'TooManyRequests',
      error_message: 'client "billing" is over its limit of 600 new keys a minute; retry after 12 s',
    },
    retryAfterHeader,
  ),
  503: errorResponse(
    'KmsUnavailable, StoreUnavailable, KeyContention or AuditUnavailable: what is down is named; ' +
      'ServiceUnavailable: the connection carried its server.max_requests_per_socket requests (open a new one). ' +
      'Retry-After says when to retry',
    {
      error_type: 'KmsUnavailable',
      error_message: 'no KMS region could decrypt the key: us-east-1: Decrypt: connection reset; …',
    },
    retryAfterHeader,
  ),
  default: errorResponse(
    'Any other refusal, in the same body: NotFound (404, a method or path not listed in this document), ' +
      'RequestTimeout (408, the request did not arrive within server.receive_timeout_ms), ' +
      'RequestHeaderFieldsTooLarge (431) and the like',
    {
      error_type: 'NotFound',
      error_message: 'no route PUT /key: use GET /key?id=<id>, POST /key?id=<id>, …',
    },
  ),
};

/**
 * The errors of the key routes whose method has a body (POST, DELETE): they need none, and
 * one that is sent must be small and JSON or text.
 */
export const bodyErrors = {
  413: errorResponse('PayloadTooLarge: a body over 16 KiB (these routes need none)', {
    error_type: 'PayloadTooLarge',
    error_message: 'Request body is too large',
  }),
  415: errorResponse('UnsupportedMediaType: a body that is neither application/json nor text/plain', {
    error_type: 'UnsupportedMediaType',
    error_message: 'Unsupported Media Type',
  }),
};

/**
 * Who may call a key route: a client's bearer token, or a client certificate (mutual TLS,
 * which OpenAPI 3.0 cannot express); no credentials where the server declares no clients.
 */
export const keyRouteSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, {}];

export const integrityError = errorResponse(
  'KeyIntegrityError: no copy of the stored key decrypts for this id (needs an operator)',
  {
    error_type: 'KeyIntegrityError',
    error_message: 'the stored key for id "tenant-42" failed its integrity check: …',
  },
);

export const deletedError = errorResponse('KeyDeleted: the key was destroyed; POST /key creates a new one', {
  error_type: 'KeyDeleted',
  error_message: 'the key for id "tenant-42" was deleted on 2026-12-01T12:00:00.000Z; …',
});

export const notFoundError = errorResponse('KeyNotFound: the id has no key', {
  error_type: 'KeyNotFound',
  error_message: 'no key exists for id "tenant-42"',
});
