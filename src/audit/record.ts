import { jsonText } from '../shared/json-text.js';
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
  /** The HTTP status of the answer; for a gRPC call, the status HTTP answers the same outcome with. */
  status: number;
  /** For a refusal or a failure: the answer's error_type… */
  error_type?: string;
  /** …and, for a refusal, its message (which rule, or what was missing). */
  reason?: string;
  /** Only on lines of gRPC calls (HTTP lines have neither field): the transport, and the call's status code. */
  transport?: 'grpc';
  grpc_status?: string;
}

/**
 * A record as one line of JSON: fixed field order, a type marker apart from the service
 * log's lines. Written field by field, as JSON.stringify would write it: every audited
 * request builds one, and this costs a third of what JSON.stringify of the record does.
 */
export function auditLine(record: AuditRecord): string {
  // time is an ISO date; auth, action, outcome and transport are names from fixed sets:
  // none can hold a character JSON escapes, so they are quoted as they are.
  let line =
    `{"type":"audit","time":"${record.time}","request_id":${jsonText(record.request_id)}` +
    `,"client":${record.client === null ? 'null' : jsonText(record.client)},"auth":"${record.auth}"` +
    `,"remote_address":${jsonText(record.remote_address)},"action":"${record.action}"`;
  if (record.id !== undefined) line += `,"id":${jsonText(record.id)}`;
  line += `,"outcome":"${record.outcome}"`;
  if (record.region !== undefined) line += `,"region":${jsonText(record.region)}`;
  line += `,"status":${String(record.status)}`;
  if (record.error_type !== undefined) line += `,"error_type":${jsonText(record.error_type)}`;
  if (record.reason !== undefined) line += `,"reason":${jsonText(record.reason)}`;
  if (record.transport !== undefined) line += `,"transport":"${record.transport}"`;
  if (record.grpc_status !== undefined) line += `,"grpc_status":${jsonText(record.grpc_status)}`;
  return `${line}}\n`;
}

let isoSecond = Number.NaN;
/** `2026-12-03T10:00:00.`: the part of the ISO time that changes once a second. */
let isoPrefix = '';

/**
 * Now, in ISO 8601, for the `time` of a line. Formatting a date costs V8 several thousand
 * instructions, more than the rest of a cached read's line: the date and the seconds are
 * formatted once a second, the milliseconds by hand (UTC has no leap seconds in JavaScript,
 * so the prefix cannot change within a second).
 */
export function isoTimeNow(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const ms = now - second * 1000;
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${String(ms)}Z`;
}

/** The refusals of access control (who calls, how often, by which Host), by their error_type. */
const DENIALS: ReadonlySet<string> = new Set([
  'Unauthorized',
  'Forbidden',
  'TooManyRequests',
  'HostNotAllowed',
]);

/** How an operation ended: with a key handed out (and whether it made it), or with an error_type. */
export type OperationResult = { served?: { created: boolean } } | { errorType: string };

/** The outcome an audit line names, by one rule for every transport. */
export function auditOutcome(action: Action, result: OperationResult): AuditOutcome {
  if ('errorType' in result) {
    if (DENIALS.has(result.errorType)) return 'denied';
    if (result.errorType === 'KeyNotFound' || result.errorType === 'KeyDeleted') return 'not_found';
    if (result.errorType === 'KeyPendingDeletion') return 'pending_deletion';
    return 'failed';
  }
  if (result.served) return result.served.created ? 'created' : 'served';
  switch (action) {
    case 'delete':
      return 'deleted';
    case 'restore':
      return 'restored';
    case 'create':
      return 'created';
    default:
      return 'served';
  }
}
