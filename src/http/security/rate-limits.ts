import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { Client } from '../../auth/clients.js';
import { TooManyRequestsError, type RateLimitKind } from '../../auth/errors.js';
import type { SecurityEvents } from '../../auth/events.js';
import type { RkmsInstance } from '../instance.js';

export interface RateLimitSettings {
  requests_per_minute: number;
  creates_per_minute: number;
}

/** Checks one request against one of its caller's limits; throws TooManyRequestsError when over it. */
export type RateLimitCheck = (
  request: FastifyRequest,
  client: Client | undefined,
  kind: RateLimitKind,
) => Promise<void>;

const WINDOW_MS = 60_000;

/**
 * Per-minute limits with @fastify/rate-limit's store: one counter per client for what it
 * asks (`requests`) and one for the keys it makes (`creates`, the costly path: three KMS
 * calls and a write each). Anonymous and unauthenticated callers count per address (an
 * IPv6 /64 is one address). A client's own `requests_per_minute`/`creates_per_minute`
 * wins over `[rate_limit]`; 0 is no limit.
 */
export async function rateLimits(
  app: RkmsInstance,
  settings: RateLimitSettings,
  events: SecurityEvents,
): Promise<RateLimitCheck> {
  await app.register(fastifyRateLimit, { global: false });
  const perMinute = (client: Client | undefined, kind: RateLimitKind): number =>
    (kind === 'creates' ? client?.createsPerMinute : client?.requestsPerMinute) ??
    (kind === 'creates' ? settings.creates_per_minute : settings.requests_per_minute);
  const callers = new WeakMap<FastifyRequest, Client | undefined>();
  const keyOf = (request: FastifyRequest): string => {
    const client = callers.get(request);
    return client && !client.anonymous ? `client:${client.name}` : `address:${normalizeIP(request.ip)}`;
  };
  const limiters = {
    requests: app.createRateLimit({
      keyGenerator: keyOf,
      max: (request) => perMinute(callers.get(request), 'requests'),
      timeWindow: WINDOW_MS,
    }),
    creates: app.createRateLimit({
      keyGenerator: keyOf,
      max: (request) => perMinute(callers.get(request), 'creates'),
      timeWindow: WINDOW_MS,
    }),
  };
  return async (request, client, kind) => {
    const limit = perMinute(client, kind);
    if (limit === 0) return;
    callers.set(request, client);
    const result = await limiters[kind](request);
    if (result.isAllowed || !result.isExceeded) return;
    events.emit({ type: 'rate_limited', client: client?.name ?? 'unauthenticated', limit: kind });
    throw new TooManyRequestsError(kind, limit, Math.max(1, result.ttlInSeconds));
  };
}
