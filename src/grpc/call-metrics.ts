import type { AccessControl, KeyAction } from './access.js';
import type { GrpcSecurity } from './security/index.js';
import { METHODS } from './service.js';

/** One finished call of rkms.v1.Rkms: its RPC, its status code's name, how long it took. */
export interface GrpcCall {
  method: string;
  code: string;
  seconds: number;
}

const METHOD_OF = new Map<KeyAction, string>(METHODS.map((method) => [method.action, method.name]));

/**
 * Every key call passes its access control twice: when it starts (`access(context)`) and when
 * its answer is decided (`record`, the audit line, which also decides UNAVAILABLE when the
 * line cannot be written). Wrapping that pair times every call and learns its final code,
 * refused, timed-out and withheld ones included, without the service knowing of metrics.
 */
export function meteredAccess(access: AccessControl, onCall: (call: GrpcCall) => void): AccessControl {
  return (context) => {
    const started = performance.now();
    const guard = access(context);
    const method = METHOD_OF.get(context.action) ?? 'unknown';
    const finished = (code: string) => {
      onCall({ method, code, seconds: (performance.now() - started) / 1000 });
    };
    return {
      authenticate: () => {
        guard.authenticate();
      },
      authorize: (id) => {
        guard.authorize(id);
      },
      beforeCreate: (id) => guard.beforeCreate(id),
      record: async (result) => {
        try {
          await guard.record(result);
        } catch (err) {
          // The answer is withheld: UNAVAILABLE AuditUnavailable goes instead.
          finished('UNAVAILABLE');
          throw err;
        }
        finished(result.ok ? 'OK' : result.code);
      },
    };
  };
}

/** The gRPC server's security parts, with every call counted and timed. */
export function withCallMetrics(security: GrpcSecurity, onCall: (call: GrpcCall) => void): GrpcSecurity {
  return { ...security, access: meteredAccess(security.access, onCall) };
}
