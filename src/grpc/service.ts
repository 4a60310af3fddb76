import { isIP } from 'node:net';
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
import { peerCertificateOf } from '../auth/peer-certificate.js';
import type { AccessControl, CallContext, CallResult } from './access.js';
import { failureOf, RequestTimeoutError, type CallFailure } from './errors.js';
import { decodeIdRequest, idText, validId, type IdRequest } from './id-request.js';
import { createKey } from './methods/create-key.js';
import { deleteKey } from './methods/delete-key.js';
import { getKey } from './methods/get-key.js';
import type { KeyMethod, MethodAnswer } from './methods/method.js';
import { restoreKey } from './methods/restore-key.js';
import { rkmsMethod } from './proto.js';
import type { PeerSockets } from './transport/listener.js';
import type { EndStatus } from './transport/receive-deadline.js';

export interface RkmsServiceOptions {
  keys: KeyService;
  logger: Logger;
  /** Who may do what with which id, how often, and the audit line of every call. */
  access: AccessControl;
  /** The connection of a call, for its client certificate (src/grpc/transport/listener.ts). */
  peers: PeerSockets;
}

/** The RPCs of rkms.v1.Rkms, each with the action it is authorized as. */
export const METHODS: readonly KeyMethod[] = [getKey, createKey, deleteKey, restoreKey];

/**
 * rkms.v1.Rkms as the .proto defines it, with two changes that keep the wire format:
 * requests are read by decodeIdRequest (invalid UTF-8 is refused, not replaced), and the
 * handlers answer with messages they encoded themselves, so a key is wiped once encoded.
 */
export function rkmsService(options: RkmsServiceOptions): {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
  /** For receiveDeadline: how a call of this service whose request never arrived ends. */
  timedOut: (
    path: string,
    metadata: Metadata,
    peer: string,
    timeoutMs: number,
  ) => Promise<EndStatus | undefined>;
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
  return { definition, implementation, timedOut: timedOutCall(options) };
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

/**
 * Authenticate, validate, authorize, call the key service, audit, answer — the order of
 * HTTP's key routes. Never rejects. No answer leaves without its audit line: when the line
 * cannot be written, the answer (a key included) is withheld and UNAVAILABLE AuditUnavailable
 * goes instead.
 */
async function answer(
  method: KeyMethod,
  path: string,
  { keys, logger, access, peers }: RkmsServiceOptions,
  call: ServerUnaryCall<IdRequest, Buffer>,
): Promise<Answer> {
  const started = performance.now();
  const context = contextOf(method, call.metadata, call.getPeer(), peers, idText(call.request));
  const { requestId } = context;
  const trailer = new Metadata();
  trailer.set('x-request-id', requestId);
  let log = logger.child({ requestId, rpc: path });
  const guard = access(context);
  let outcome: MethodAnswer | CallFailure;
  try {
    guard.authenticate();
    const id = validId(call.request);
    log = log.child({ id });
    guard.authorize(id);
    outcome = await method.run(keys, id, { log, beforeCreate: () => guard.beforeCreate(id) });
  } catch (err) {
    outcome = failureOf(err, requestId, trailer, log);
  }
  try {
    await guard.record(resultOf(outcome));
  } catch (err) {
    if ('message' in outcome) outcome.message.fill(0);
    return {
      error: failureOf(err, requestId, trailer, log, 'answer withheld: its audit line could not be written')
        .error,
    };
  }
  if ('error' in outcome) return { error: outcome.error };
  log.info({ code: 'OK', responseTimeMs: Math.round(performance.now() - started) }, 'call completed');
  return { message: outcome.message, trailer };
}

/**
 * A key call whose request did not arrive within receive_timeout_ms: DEADLINE_EXCEEDED
 * RequestTimeout (HTTP's 408), with its audit line — unless the caller is refused
 * first, as HTTP refuses a request from its headers before it waits for the body.
 * Undefined for a path that is not this service's.
 */
function timedOutCall({ logger, access, peers }: RkmsServiceOptions) {
  const byPath = new Map(METHODS.map((method) => [rkmsMethod(method.name).path, method]));
  return async (path: string, metadata: Metadata, peer: string, timeoutMs: number) => {
    const method = byPath.get(path);
    if (!method) return undefined;
    const context = contextOf(method, metadata, peer, peers, undefined);
    const trailer = new Metadata();
    trailer.set('x-request-id', context.requestId);
    const log = logger.child({ requestId: context.requestId, rpc: path.slice(1) });
    const guard = access(context);
    let failure: CallFailure;
    try {
      guard.authenticate();
      failure = failureOf(new RequestTimeoutError(timeoutMs), context.requestId, trailer, log);
    } catch (err) {
      failure = failureOf(err, context.requestId, trailer, log);
    }
    try {
      await guard.record(resultOf(failure));
    } catch (err) {
      return failureOf(
        err,
        context.requestId,
        trailer,
        log,
        'answer withheld: its audit line could not be written',
      ).error;
    }
    return failure.error;
  };
}

/** What access control is told of a call: who sent it, from where, with which id (when its request arrived). */
function contextOf(
  method: KeyMethod,
  metadata: Metadata,
  peer: string,
  peers: PeerSockets,
  id: string | undefined,
): CallContext {
  return {
    requestId: requestIdOf({ headers: { 'x-request-id': textOf(metadata, 'x-request-id') } }),
    action: method.action,
    id,
    authorization: textOf(metadata, 'authorization'),
    ...peerCertificateOf(peers.socketOf(peer)),
    address: addressOf(peer),
  };
}

function resultOf(outcome: MethodAnswer | CallFailure): CallResult {
  if ('message' in outcome) return { ok: true, served: outcome.served };
  const { error, errorType } = outcome;
  return { ok: false, code: Code[error.code], errorType, message: error.details };
}

/** The address of `ip:port`, `[v6]:port` or `v6:port` (grpc-js's getPeer), for rate limits and the audit line. */
function addressOf(peer: string): string {
  if (isIP(peer)) return peer;
  return peer.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
}

function textOf(metadata: Metadata, key: string): string | undefined {
  const [value] = metadata.get(key);
  return typeof value === 'string' ? value : undefined;
}
