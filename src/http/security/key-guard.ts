import type { FastifyRequest } from 'fastify';
import type { AuditTrail } from '../../audit/trail.js';
import { AuditUnavailableError } from '../../audit/errors.js';
import { mayCreate, refusal } from '../../auth/authorize.js';
import type { Authentication, Client, ClientRegistry } from '../../auth/clients.js';
import { CreateNotAllowedError, ForbiddenError, unauthorizedError } from '../../auth/errors.js';
import { peerCertificateOf } from '../../auth/peer-certificate.js';
import type { SecurityEvents } from '../../auth/events.js';
import type { Action } from '../../config/security-schema.js';
import type { CallOptions, ServedKey } from '../../keys/service.js';
import type { RkmsScope } from '../instance.js';
import { auditOnSend } from './audit-hook.js';
import type { RateLimitCheck } from './rate-limits.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a key route does, for authorization and the audit trail. */
    keyAction?: Action;
  }
  interface FastifyRequest {
    keyAccess: KeyAccess | null;
  }
}

/** Who asks for what, on one key request; filled in as the request goes. */
export class KeyAccess {
  /** The key handed out: where it came from, and whether this request made it. */
  served: { readonly source: string; readonly created: boolean } | undefined = undefined;

  constructor(
    readonly action: Action,
    readonly authentication: Authentication,
    private readonly request: FastifyRequest,
    private readonly limit: RateLimitCheck,
  ) {}

  /**
   * Called before a key is created for this request: refuses a client without `create`, or
   * over its limit. A promise, as KeyService awaits it; what the executor throws rejects it.
   */
  beforeCreate(): Promise<void> {
    return new Promise<void>((resolve) => {
      const client = clientOf(this.authentication);
      const { id } = this.request.query as { id: string };
      if (!mayCreate(client, id)) throw new CreateNotAllowedError(id, client.name);
      this.limit(this.request, client, 'creates');
      resolve();
    });
  }
}

export interface KeyGuardDeps {
  clients: ClientRegistry;
  audit: AuditTrail;
  events: SecurityEvents;
  limit: RateLimitCheck;
}

/**
 * The key routes' access control, in the order a request meets it: who is calling (401),
 * how often (429), whether the audit trail can record it (503), whether the client may
 * do this to this id (403, from its declaration alone, before any store read); then, in
 * the handler, whether it may create a key and how many (see `keyOptions`); and last,
 * the audit line, written before the answer leaves.
 */
export function guardKeyRoutes(scope: RkmsScope, deps: KeyGuardDeps): void {
  scope.decorateRequest('keyAccess', null);

  scope.addHook('onRequest', (request, _reply, done) => {
    const action = request.routeOptions.config.keyAction ?? 'get';
    const authentication = deps.clients.authenticate({
      authorization: request.headers.authorization,
      ...peerCertificateOf(request.raw.socket),
    });
    request.keyAccess = new KeyAccess(action, authentication, request, deps.limit);
    try {
      deps.limit(request, authentication.ok ? authentication.client : undefined, 'requests');
    } catch (err) {
      done(err as Error);
      return;
    }
    if (!authentication.ok) {
      deps.events.emit({ type: 'unauthenticated', problem: authentication.problem });
      done(unauthorizedError(authentication.problem, authentication.message));
      return;
    }
    done();
  });

  scope.addHook('preHandler', (request, _reply, done) => {
    const access = accessOf(request);
    // Refused before anything changes; the line recording the refusal probes the trail.
    if (!deps.audit.healthy) {
      done(new AuditUnavailableError());
      return;
    }
    const client = clientOf(access.authentication);
    const refused = refusal(client, access.action, (request.query as { id: string }).id);
    if (refused !== undefined) {
      deps.events.emit({ type: 'forbidden', client: client.name, action: access.action });
      done(new ForbiddenError(refused));
      return;
    }
    done();
  });

  scope.addHook('onSend', auditOnSend(deps.audit, deps.events));
}

/** What a key route passes to KeyService: the check before a key is created for this request. */
export function keyOptions(request: FastifyRequest): CallOptions {
  const access = accessOf(request);
  return { log: request.log, beforeCreate: () => access.beforeCreate() };
}

/**
 * Tells the audit line which region (or the cache) the key came from, and whether it is
 * new: the two fields only, so the request holds no reference to the key itself.
 */
export function recordServed(request: FastifyRequest, served: Pick<ServedKey, 'source' | 'created'>): void {
  accessOf(request).served = { source: served.source, created: served.created };
}

export function accessOf(request: FastifyRequest): KeyAccess {
  if (!request.keyAccess) throw new Error('a key route ran without its access control (guardKeyRoutes)');
  return request.keyAccess;
}

function clientOf(authentication: Authentication): Client {
  if (!authentication.ok) throw new Error('an unauthenticated request reached authorization');
  return authentication.client;
}
