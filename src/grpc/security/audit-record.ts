import { auditOutcome, isoTimeNow, type AuditRecord } from '../../audit/record.js';
import type { Authentication } from '../../auth/clients.js';
import { statusOfErrorType } from '../../http/errors.js';
import type { CallContext, CallResult } from '../access.js';

/**
 * A gRPC call's audit line: the fields and outcomes of HTTP's (src/http/security/audit-hook.ts),
 * `status` being the one HTTP answers the same outcome with, so that one query reads both
 * transports; then `transport` and the call's own status code.
 */
export function auditRecordOf(
  call: CallContext,
  authentication: Authentication | undefined,
  result: CallResult,
): AuditRecord {
  const outcome = auditOutcome(
    call.action,
    result.ok ? (result.served ? { served: result.served } : {}) : { errorType: result.errorType },
  );
  return {
    time: isoTimeNow(),
    request_id: call.requestId,
    client: authentication?.ok ? authentication.client.name : null,
    auth: authentication?.ok ? authentication.method : 'none',
    remote_address: call.address,
    action: call.action,
    ...(call.id === undefined ? {} : { id: call.id }),
    outcome,
    ...(result.ok && result.served ? { region: result.served.source } : {}),
    status: result.ok ? (call.action === 'create' ? 201 : 200) : statusOfErrorType(result.errorType),
    ...(result.ok ? {} : { error_type: result.errorType }),
    ...(!result.ok && outcome === 'denied' ? { reason: result.message } : {}),
    transport: 'grpc',
    grpc_status: result.ok ? 'OK' : result.code,
  };
}
