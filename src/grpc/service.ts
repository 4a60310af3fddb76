import {
  Metadata,
  status as Code,
  type handleUnaryCall,
  type ServerUnaryCall,
  type ServiceDefinition,
  type StatusObject,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { requestIdOf } from '../http/request-id.js';
import type { KeyService } from '../keys/service.js';
import type { AuditEvent, AuditSink, Authorize, KeyAction } from './access.js';
import { AccessDeniedError, AuditFailedError, failureOf } from './errors.js';
import { decodeIdRequest, validId, type IdRequest } from './id-request.js';
import { createKey } from './methods/create-key.js';
import { deleteKey } from './methods/delete-key.js';
import { getKey } from './methods/get-key.js';
import type { KeyMethod } from './methods/method.js';
import { restoreKey } from './methods/restore-key.js';
import { rkmsMethod } from './proto.js';

export interface RkmsServiceOptions {
  keys: KeyService;
  logger: Logger;
  /** Decides who may do what with which id; without it every call is allowed (as HTTP without auth). */
  authorize?: Authorize | undefined;
  /** Receives one record per call. */
  audit?: AuditSink | undefined;
}

const METHODS: readonly KeyMethod[] = [getKey, createKey, deleteKey, restoreKey];

/**
 * rkms.v1.Rkms as the .proto defines it, with two changes that keep the wire format:
 * requests are read by decodeIdRequest (invalid UTF-8 is refused, not replaced), and the
 * handlers answer with messages they encoded themselves, so a key is wiped once encoded.
 */
export function rkmsService(options: RkmsServiceOptions): {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
} {
  const definition: ServiceDefinition = Object.fromEntries(
    METHODS.map((method) => [
      method.name,
      {
        ...rkmsMethod(method.name),
        requestDeserialize: decodeIdRequest,
        responseSerialize: (encoded: Buffer) => encoded,
      },
    ]),
  );
  const implementation: UntypedServiceImplementation = Object.fromEntries(
    METHODS.map((method) => [method.name, handlerOf(method, options)]),
  );
  return { definition, implementation };
}

type Answer = { message: Buffer; trailer: Metadata } | { error: Partial<StatusObject> };

function handlerOf(method: KeyMethod, options: RkmsServiceOptions): handleUnaryCall<IdRequest, Buffer> {
  const path = rkmsMethod(method.name).path.slice(1);
  return (call, callback) => {
    void answer(method, path, options, call).then((result) => {
      if ('error' in result) callback(result.error);
      else callback(null, result.message, result.trailer);
    });
  };
}

/** Validate, authorize, call the key service, audit, answer: never rejects. */
async function answer(
  method: KeyMethod,
  path: string,
  { keys, logger, authorize, audit }: RkmsServiceOptions,
  call: ServerUnaryCall<IdRequest, Buffer>,
): Promise<Answer> {
  const started = performance.now();
  const requestId = requestIdOf({ headers: { 'x-request-id': textOf(call.metadata, 'x-request-id') } });
  const trailer = new Metadata();
  trailer.set('x-request-id', requestId);
  let log = logger.child({ requestId, rpc: path });
  const event: AuditEvent = {
    transport: 'grpc',
    requestId,
    method: path,
    action: method.action,
    peer: call.getPeer(),
    code: 'OK',
  };
  try {
    const id = validId(call.request);
    event.id = id;
    log = log.child({ id });
    if (authorize) event.client = await authorized(authorize, call, method.action, id);
    const { message, audit: outcome } = await method.run(keys, id);
    Object.assign(event, outcome);
    try {
      await audit?.(event);
    } catch (err) {
      message.fill(0);
      throw new AuditFailedError('the audit sink refused the record: the answer is withheld', { cause: err });
    }
    log.info({ code: 'OK', responseTimeMs: Math.round(performance.now() - started) }, 'call completed');
    return { message, trailer };
  } catch (err) {
    const { error, errorType } = failureOf(err, requestId, trailer, log);
    if (audit && !(err instanceof AuditFailedError)) {
      try {
        await audit({ ...event, code: Code[error.code], errorType });
      } catch (auditError) {
        log.error({ err: auditError }, 'the audit sink refused the record of a failed call');
      }
    }
    return { error };
  }
}

/** The client the hook allowed; AccessDeniedError when it refused. */
async function authorized(
  authorize: Authorize,
  call: ServerUnaryCall<IdRequest, Buffer>,
  action: KeyAction,
  id: string,
): Promise<string> {
  const decision = await authorize({
    action,
    id,
    bearerToken: /^Bearer\s+(\S+)\s*$/i.exec(textOf(call.metadata, 'authorization') ?? '')?.[1],
    peerCertificate: call.getAuthContext().sslPeerCertificate,
    metadata: call.metadata,
    peer: call.getPeer(),
  });
  if (decision.allowed) return decision.client;
  const unauthenticated = decision.status === 'unauthenticated';
  throw new AccessDeniedError(
    unauthenticated ? Code.UNAUTHENTICATED : Code.PERMISSION_DENIED,
    decision.errorType ?? (unauthenticated ? 'Unauthenticated' : 'PermissionDenied'),
    decision.message,
  );
}

function textOf(metadata: Metadata, key: string): string | undefined {
  const [value] = metadata.get(key);
  return typeof value === 'string' ? value : undefined;
}
