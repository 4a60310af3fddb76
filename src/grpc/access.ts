import type { VerifiedCertificate } from '../auth/clients.js';
import type { Action } from '../config/security-schema.js';

/**
 * Where access control plugs into the gRPC service: one `CallAccess` per call, asked at the
 * points where the HTTP key routes ask theirs (src/http/security/key-guard.ts), so both
 * transports make the same decisions in the same order and write one audit trail.
 * src/grpc/security/ builds it from the parts HTTP uses.
 */

export type KeyAction = Action;

/** What the transport knows of a call before its request is read. */
export interface CallContext {
  requestId: string;
  action: KeyAction;
  /** The id as sent, when it is text at all (for the audit line: it may not be a valid id). */
  id: string | undefined;
  /** The `authorization` metadata entry, as sent. */
  authorization: string | undefined;
  /** The client's certificate, only when TLS verified it against the configured CAs (mTLS). */
  certificate?: VerifiedCertificate | undefined;
  /** A client certificate TLS did not verify: TLS's reason, for the refusal. */
  rejectedCertificate?: string | undefined;
  /** The caller's IP address, without its port. */
  address: string;
}

/** How a call ended, for its audit line. */
export type CallResult =
  | { ok: true; served?: { source: string; created: boolean } | undefined }
  | { ok: false; code: string; errorType: string; message: string };

/**
 * One call's access control, step by step. Each step refuses by throwing the typed error
 * HTTP throws (src/auth/errors.ts, src/audit/errors.ts), which the service answers with
 * the matching gRPC status.
 */
export interface CallAccess {
  /**
   * Who calls (UnauthorizedError) and whether its budget allows another call
   * (TooManyRequestsError). First, before the request is read, as HTTP does before it
   * validates the query: a caller without credentials learns nothing about its request.
   */
  authenticate(): void;
  /**
   * After validation, before the key service: whether the audit trail can record the call
   * (AuditUnavailableError), and whether the client may do the action on the id, from its
   * declaration alone (ForbiddenError).
   */
  authorize(id: string): void;
  /** KeyService's beforeCreate: refuses a client without `create` on the id, or over its creations. */
  beforeCreate(id: string): Promise<void>;
  /** Writes the call's audit line; rejects with AuditUnavailableError when it cannot, and the answer is withheld. */
  record(result: CallResult): Promise<void>;
}

export type AccessControl = (call: CallContext) => CallAccess;
