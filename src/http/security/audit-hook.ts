import type { FastifyRequest, onSendHookHandler } from 'fastify';
import type { SecurityEvents } from '../../auth/events.js';
import { auditOutcome, isoTimeNow, type AuditRecord } from '../../audit/record.js';
import type { AuditTrail } from '../../audit/trail.js';
import { errorBody } from '../errors.js';

/**
 * Writes the audit line of every key-route answer before it leaves. An answer whose line
 * cannot be written leaves as 503 AuditUnavailable instead, so no key (and no result of an
 * operation) reaches a caller without its record.
 */
export function auditOnSend(audit: AuditTrail, events: SecurityEvents): onSendHookHandler {
  return (request, reply, payload, done) => {
    const error = reply.statusCode >= 400 ? errorOf(payload) : undefined;
    audit.write(recordOf(request, reply.statusCode, error), (err) => {
      if (err === undefined) {
        done(null, payload);
        return;
      }
      events.emit({ type: 'audit_failed' });
      request.log.error(
        { err, status: reply.statusCode },
        'answer withheld: its audit line could not be written',
      );
      void reply
        .code(503)
        .removeHeader('www-authenticate')
        .headers({ 'content-type': 'application/json; charset=utf-8', 'retry-after': '5' });
      done(
        null,
        JSON.stringify(
          errorBody(
            'AuditUnavailable',
            'the audit trail cannot be written, so no key operation is answered; retry later',
            request.id,
          ),
        ),
      );
    });
  };
}

function recordOf(
  request: FastifyRequest,
  status: number,
  error: { type?: string; message?: string } | undefined,
): AuditRecord {
  const access = request.keyAccess;
  const authentication = access?.authentication;
  const id = (request.query as { id?: unknown } | undefined)?.id;
  const action = access?.action ?? request.routeOptions.config.keyAction ?? 'get';
  const outcome = auditOutcome(
    action,
    status < 300 ? (access?.served ? { served: access.served } : {}) : { errorType: error?.type ?? '' },
  );
  // Fields left undefined are not written (auditLine skips them); no spread copies per request.
  return {
    time: isoTimeNow(),
    request_id: request.id,
    client: authentication?.ok ? authentication.client.name : null,
    auth: authentication?.ok ? authentication.method : 'none',
    remote_address: request.ip,
    action,
    id: typeof id === 'string' ? id : undefined,
    outcome,
    region: access?.served && status < 300 ? access.served.source : undefined,
    status,
    error_type: error?.type,
    reason: outcome === 'denied' ? error?.message : undefined,
  };
}

/** The error_type and message of an error answer (bodies are small JSON strings by then). */
function errorOf(payload: unknown): { type?: string; message?: string } | undefined {
  if (typeof payload !== 'string') return undefined;
  try {
    const body = JSON.parse(payload) as { error_type?: unknown; error_message?: unknown };
    return {
      ...(typeof body.error_type === 'string' ? { type: body.error_type } : {}),
      ...(typeof body.error_message === 'string' ? { message: body.error_message } : {}),
    };
  } catch {
    return undefined;
  }
}
