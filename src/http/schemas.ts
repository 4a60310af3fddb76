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
};

/** The error body of the original RKMS, described for one status of one route. */
export function errorResponse(description: string, example: { error_type: string; error_message: string }) {
  return Type.Object(ErrorFields, { description, example });
}

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
  },
);

export const KeyStatusBody = (description: string, example: Record<string, string>) =>
  Type.Object(
    {
      id: Type.String({ description: 'The id, as given' }),
      state: Type.Union([Type.Literal('Enabled'), Type.Literal('PendingDeletion')], {
        description:
          'Enabled: served. PendingDeletion: refused (409) until restored or destroyed on deletion_date',
      }),
      deletion_date: Type.Optional(Type.String({ description: 'ISO-8601: when a pending key is destroyed' })),
    },
    { description, example },
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
  503: errorResponse(
    'KmsUnavailable, StoreUnavailable or KeyContention: what is down is named; Retry-After says when to retry',
    {
      error_type: 'KmsUnavailable',
      error_message: 'no KMS region could decrypt the key: us-east-1: Decrypt: connection reset; …',
    },
  ),
};

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
