import Type from 'typebox';
import { ID_PATTERN, MAX_ID_LENGTH } from '../keys/id.js';

/** `?id=<id>`: the one query parameter every key route takes. Other parameters are ignored. */
export const IdQuery = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: MAX_ID_LENGTH,
    // Control characters and lone UTF-16 surrogates (invalid Unicode) are refused.
    pattern: ID_PATTERN.replace(']+$', '\\ud800-\\udfff]+$'),
  }),
});

/** The error body of the original RKMS, and the request id to find the details in the log. */
export const ErrorBody = Type.Object({
  error_type: Type.String(),
  error_message: Type.String(),
  request_id: Type.String(),
});

export const KeyBody = Type.Object({
  id: Type.String(),
  key: Type.String({ description: 'the data key, base64' }),
});

export const KeyStatusBody = Type.Object({
  id: Type.String(),
  state: Type.Union([Type.Literal('Enabled'), Type.Literal('PendingDeletion')]),
  deletion_date: Type.Optional(Type.String({ description: 'ISO-8601' })),
});

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  410: ErrorBody,
  421: ErrorBody,
  429: ErrorBody,
  500: ErrorBody,
  503: ErrorBody,
};
