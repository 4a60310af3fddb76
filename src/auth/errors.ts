import { KeyNotFoundError } from '../keys/errors.js';

/** No credentials, or credentials of no configured client. */
export class UnauthorizedError extends Error {
  override name = 'UnauthorizedError';
  constructor(
    message: string,
    /** The WWW-Authenticate challenge (RFC 6750). */
    readonly challenge: string,
  ) {
    super(message);
  }
}

const CHALLENGE = 'Bearer realm="rkms"';

/** The refusal of a caller that did not authenticate, with the challenge its problem calls for. */
export function unauthorizedError(
  problem: 'missing' | 'malformed' | 'unknown',
  message: string,
): UnauthorizedError {
  return new UnauthorizedError(
    message,
    problem === 'missing' ? CHALLENGE : `${CHALLENGE}, error="invalid_token"`,
  );
}

/** A known client outside its actions or ids; the message names the rule. */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}

/**
 * A GET of an id that has no key, by a client that may read the id but not create keys:
 * there is no key, and this call may not make one. Only a client allowed to read the id
 * gets this answer, so it learns nothing a GET of an existing key would not tell it.
 */
export class CreateNotAllowedError extends KeyNotFoundError {
  override name = 'CreateNotAllowedError';
  constructor(id: string, client: string) {
    super(id);
    this.message =
      `no key exists for id ${JSON.stringify(id)}, ` +
      `and client ${client} may not create one (it lacks the create action)`;
  }
}

export type RateLimitKind = 'requests' | 'creates';

/** A client (or an anonymous address) over one of its limits. */
export class TooManyRequestsError extends Error {
  override name = 'TooManyRequestsError';
  constructor(
    readonly limit: RateLimitKind,
    readonly perMinute: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      limit === 'creates'
        ? `over the limit of ${perMinute} new keys per minute; retry after ${retryAfterSeconds} s`
        : `over the limit of ${perMinute} requests per minute; retry after ${retryAfterSeconds} s`,
    );
  }
}
