import { AuditUnavailableError } from '../../audit/errors.js';
import type { AuditTrail } from '../../audit/trail.js';
import { mayCreate, refusal } from '../../auth/authorize.js';
import type { Authentication, Client, ClientRegistry } from '../../auth/clients.js';
import { CreateNotAllowedError, ForbiddenError, unauthorizedError } from '../../auth/errors.js';
import type { SecurityEvents } from '../../auth/events.js';
import type { RateLimiter } from '../../auth/rate-limiter.js';
import type { AccessControl, CallAccess, CallContext, CallResult } from '../access.js';
import { auditRecordOf } from './audit-record.js';

/** The parts of access control HTTP uses, shared as they are: one policy, one budget, one trail. */
export interface AccessParts {
  clients: ClientRegistry;
  audit: AuditTrail;
  events: SecurityEvents;
  limiter: RateLimiter;
}

/**
 * The gRPC service's access control, on HTTP's parts and rules: `[[auth.clients]]` with
 * `refusal` and `mayCreate`, the same rate-limit counters, the same audit trail, and the
 * same refusals told to the metrics.
 */
export function accessControl(parts: AccessParts): AccessControl {
  return (call) => new GuardedCall(parts, call);
}

class GuardedCall implements CallAccess {
  private authentication: Authentication | undefined;

  constructor(
    private readonly parts: AccessParts,
    private readonly call: CallContext,
  ) {}

  authenticate(): void {
    const { clients, limiter, events } = this.parts;
    const authentication = clients.authenticate({
      authorization: this.call.authorization,
      certificate: this.call.certificate,
      rejectedCertificate: this.call.rejectedCertificate,
    });
    this.authentication = authentication;
    // Counted before the refusal, as HTTP does: unknown callers spend their address's budget.
    limiter.check(
      { client: authentication.ok ? authentication.client : undefined, address: this.call.address },
      'requests',
    );
    if (!authentication.ok) {
      events.emit({ type: 'unauthenticated', problem: authentication.problem });
      throw unauthorizedError(authentication.problem, authentication.message);
    }
  }

  authorize(id: string): void {
    // Refused before anything changes; the line recording the refusal probes the trail.
    if (!this.parts.audit.healthy) throw new AuditUnavailableError();
    const client = this.client();
    const refused = refusal(client, this.call.action, id);
    if (refused !== undefined) {
      this.parts.events.emit({ type: 'forbidden', client: client.name, action: this.call.action });
      throw new ForbiddenError(refused);
    }
  }

  beforeCreate(id: string): Promise<void> {
    // A promise, as KeyService awaits it; what the executor throws rejects it.
    return new Promise((resolve) => {
      const client = this.client();
      if (!mayCreate(client, id)) throw new CreateNotAllowedError(id, client.name);
      this.parts.limiter.check({ client, address: this.call.address }, 'creates');
      resolve();
    });
  }

  async record(result: CallResult): Promise<void> {
    try {
      await this.parts.audit.record(auditRecordOf(this.call, this.authentication, result));
    } catch (err) {
      this.parts.events.emit({ type: 'audit_failed' });
      throw err;
    }
  }

  private client(): Client {
    if (!this.authentication?.ok) throw new Error('an unauthenticated call reached authorization');
    return this.authentication.client;
  }
}
