import type { FastifyRequest } from 'fastify';
import type { Client } from '../../auth/clients.js';
import type { RateLimitKind } from '../../auth/errors.js';
import type { RateLimiter } from '../../auth/rate-limiter.js';

/** Checks one request against one of its caller's limits; throws TooManyRequestsError when over it. */
export type RateLimitCheck = (
  request: FastifyRequest,
  client: Client | undefined,
  kind: RateLimitKind,
) => void;

/**
 * The HTTP side of the shared RateLimiter: a request counts against its client, or its
 * address (`request.ip`) when it has none, in the same budget as the caller's gRPC calls.
 */
export function rateLimits(limiter: RateLimiter): RateLimitCheck {
  return (request, client, kind) => {
    limiter.check({ client, address: request.ip }, kind);
  };
}
