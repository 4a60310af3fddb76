import type { FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { ClientRegistry } from '../../auth/clients.js';
import type { SecurityEvents } from '../../auth/events.js';
import type { RateLimiter } from '../../auth/rate-limiter.js';
import type { AuditTrail } from '../../audit/trail.js';
import type { Config } from '../../config/schema.js';
import { hostPolicyFor, type HostPolicy } from '../../shared/hosts.js';
import type { RkmsInstance, RkmsScope } from '../instance.js';
import { clientErrorHandler } from './client-errors.js';
import { hostCheck } from './host-check.js';
import { guardKeyRoutes } from './key-guard.js';
import { rateLimits } from './rate-limits.js';
import { createServerWith, type ServerLimits } from './server.js';
import { requestsPerSocket } from './socket-requests.js';
import type { TlsCredentials } from './tls.js';

export { keyOptions, recordServed } from './key-guard.js';

/** Everything the HTTP app needs to be safe to expose (issue #7). */
export interface HttpSecurity {
  clients: ClientRegistry;
  audit: AuditTrail;
  events: SecurityEvents;
  limiter: RateLimiter;
  tls: TlsCredentials | undefined;
  limits: ServerLimits;
  maxRequestsPerSocket: number;
  hostPolicy: HostPolicy | undefined;
}

export interface SecurityParts {
  clients: ClientRegistry;
  audit: AuditTrail;
  events: SecurityEvents;
  /** Per-client and per-address budgets, shared with the gRPC service. */
  limiter: RateLimiter;
  tls: TlsCredentials | undefined;
}

/** The HTTP side of the config: server limits, Host policy. */
export function httpSecurityFrom(config: Config, parts: SecurityParts): HttpSecurity {
  const { server } = config;
  return {
    ...parts,
    limits: serverLimitsOf(server),
    maxRequestsPerSocket: server.max_requests_per_socket,
    hostPolicy: hostPolicyFor(server.host, server.allowed_hosts),
  };
}

/** `[server]`'s bounds on a connection, for the API port and the metrics port alike. */
export function serverLimitsOf(server: Config['server']): ServerLimits {
  return {
    headersTimeoutMs: server.headers_timeout_ms,
    receiveTimeoutMs: server.receive_timeout_ms,
    keepAliveTimeoutMs: server.keep_alive_timeout_ms,
    // Room to receive a request and to work on it; past that, a silent connection is a stuck one.
    idleTimeoutMs: server.receive_timeout_ms + server.request_timeout_ms,
    maxConnections: server.max_connections,
  };
}

/** Fastify's constructor options: the bounded server, and RKMS's body for Node's client errors. */
export function securityServerOptions(
  security: HttpSecurity,
  logger: Logger,
): Pick<FastifyServerOptions, 'serverFactory' | 'clientErrorHandler'> {
  return {
    serverFactory: createServerWith(security.limits, security.tls),
    clientErrorHandler: clientErrorHandler(logger),
  };
}

/**
 * Adds the checks every request meets (Host, requests per connection); returns what guards
 * a scope of key routes. A promise, so that a part needing a Fastify plugin can join
 * without changing the app.
 */
export function installSecurity(
  app: RkmsInstance,
  security: HttpSecurity,
): Promise<(scope: RkmsScope) => void> {
  app.addHook('onRequest', hostCheck(security.hostPolicy));
  app.addHook('onRequest', requestsPerSocket(security.maxRequestsPerSocket));
  const limit = rateLimits(security.limiter);
  return Promise.resolve((scope) => {
    guardKeyRoutes(scope, {
      clients: security.clients,
      audit: security.audit,
      events: security.events,
      limit,
    });
  });
}
