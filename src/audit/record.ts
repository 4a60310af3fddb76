import type { Action } from '../config/security-schema.js';
import type { AuthMethod } from '../auth/clients.js';

/** What became of one key operation. */
export type AuditOutcome =
  'served' | 'created' | 'denied' | 'not_found' | 'pending_deletion' | 'deleted' | 'restored' | 'failed';

/**
 * One key operation, as its audit line says it. Never key material: the line names the
 * key by its id, and where it came from.
 */
export interface AuditRecord {
  /** ISO-8601, when the answer was decided. */
  time: string;
  request_id: string;
  /** A configured client's name, `anonymous`, or null when the caller did not authenticate. */
  client: string | null;
  /** How the client proved who it is; `none` when it did not. */
  auth: AuthMethod | 'none';
  remote_address: string;
  action: Action;
  /** The id asked for, when the request named one. */
  id?: string;
  outcome: AuditOutcome;
  /** For a key handed out: the KMS region that decrypted or generated it, or `cache`. */
  region?: string;
  status: number;
  /** For a refusal or a failure: the answer's error_type… */
  error_type?: string;
  /** …and, for a refusal, its message (which rule, or what was missing). */
  reason?: string;
}

/** A record as one line of JSON: fixed field order, a type marker apart from the service log's lines. */
export function auditLine(record: AuditRecord): string {
  return `${JSON.stringify({ type: 'audit', ...record })}\n`;
}
