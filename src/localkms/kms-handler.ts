import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CallCounter } from './counters.js';
import { isKmsError, KmsError } from './errors.js';
import type { FaultTable } from './faults.js';
import type { KeyStore } from './keystore.js';
import { OPERATIONS, UNSUPPORTED_AWS_OPERATIONS, type WireObject } from './operations/index.js';
import {
  operationOf,
  parseJsonBody,
  readBody,
  sendError,
  sendResult,
  BodyTooLargeError,
} from './protocol.js';
import { parseAuthorization, verifySignature } from './sigv4.js';

export interface KmsHandlerDeps {
  readonly store: KeyStore;
  readonly regions: readonly string[];
  readonly faults: FaultTable;
  readonly counter: CallCounter;
  readonly persist: () => Promise<void>;
  /** accessKeyId → secretAccessKey; signatures are checked only when set. */
  readonly accessKeys: ReadonlyMap<string, string> | undefined;
  readonly logger: Logger;
  /** Aborted when the server closes, so calls held by a latency fault end at once. */
  readonly lifetime: AbortSignal;
}

/**
 * Answers one KMS call: finds its region and operation, applies the region's
 * faults, checks the signature when asked to, then runs the operation. Every
 * failure becomes a KMS error response; nothing a client sends can throw out
 * of here.
 */
export function createKmsHandler(deps: KmsHandlerDeps) {
  return async function handleKmsCall(
    req: IncomingMessage,
    res: ServerResponse,
    portRegion: string | undefined,
  ): Promise<void> {
    const started = process.hrtime.bigint();
    const call: CallLog = {};
    try {
      const response = await answer(req, portRegion, call, deps);
      if (response === DROPPED) return;
      sendResult(res, response);
    } catch (error) {
      if (deps.lifetime.aborted || req.socket.destroyed) return;
      call.failure = asKmsError(error, deps.logger, { region: call.region, operation: call.operation });
      sendError(res, call.failure, error instanceof BodyTooLargeError);
    } finally {
      logCall(
        deps.logger,
        call,
        req.socket.destroyed && !res.headersSent ? 'dropped' : res.statusCode,
        started,
      );
    }
  };
}

/** What a call's log lines say; filled in as the call goes. */
interface CallLog {
  region?: string;
  operation?: string;
  request?: Record<string, unknown>;
  response?: WireObject;
  failure?: KmsError;
}

const DROPPED = Symbol('dropped');

async function answer(
  req: IncomingMessage,
  portRegion: string | undefined,
  call: CallLog,
  deps: KmsHandlerDeps,
): Promise<WireObject | typeof DROPPED> {
  const operation = (call.operation = operationOf(headerOf(req, 'x-amz-target')));
  const region = (call.region = regionOf(req, portRegion, deps.regions));
  if (OPERATIONS.has(operation) || UNSUPPORTED_AWS_OPERATIONS.has(operation))
    deps.counter.record(region, operation);
  const fault = deps.faults.decide(region, operation);
  if (fault.down) {
    // A down region answers nothing: the client sees a reset connection, as with a network failure.
    req.socket.destroy();
    return DROPPED;
  }
  const body = await readBody(req);
  if (fault.latencyMs > 0) await sleep(fault.latencyMs, undefined, { signal: deps.lifetime });
  if (fault.throttle) throw new KmsError('ThrottlingException', 'Rate exceeded');
  if (fault.error) {
    throw new KmsError(
      'KMSInternalException',
      'The request was rejected because an internal exception occurred (injected fault). The request can be retried.',
    );
  }
  if (deps.accessKeys) {
    verifySignature(
      { method: req.method ?? 'POST', url: req.url ?? '/', rawHeaders: req.rawHeaders, body },
      deps.accessKeys,
      Date.now(),
    );
  }
  const run = OPERATIONS.get(operation);
  if (!run) throw unknownOperation(operation);
  const request = (call.request = parseJsonBody(body));
  if (run.changesState) deps.store.maintain();
  return (call.response = await run.run(request, {
    region,
    regions: deps.regions,
    store: deps.store,
    persist: deps.persist,
  }));
}

/** One line per call at debug level; its bodies at trace level, where the logger redacts key material. */
function logCall(logger: Logger, call: CallLog, status: number | 'dropped', started: bigint): void {
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  logger.debug(
    { region: call.region, operation: call.operation, status, error: call.failure?.type, ms },
    'kms call',
  );
  logger.trace(
    {
      region: call.region,
      operation: call.operation,
      request: call.request,
      response: call.response,
      error: call.failure?.message,
    },
    'kms call bodies',
  );
}

/**
 * The region of a call: the port's, for a per-region port; else the region of
 * the SigV4 credential scope, as AWS clients sign it; else the first region.
 */
function regionOf(req: IncomingMessage, portRegion: string | undefined, regions: readonly string[]): string {
  if (portRegion !== undefined) return portRegion;
  const signedFor = parseAuthorization(headerOf(req, 'authorization'))?.region;
  if (signedFor === undefined) return regions[0] ?? '';
  if (!regions.includes(signedFor)) {
    throw new KmsError(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region: this local KMS serves ${regions.join(', ')}, not '${signedFor}'.`,
    );
  }
  return signedFor;
}

function unknownOperation(operation: string): KmsError {
  return UNSUPPORTED_AWS_OPERATIONS.has(operation)
    ? new KmsError(
        'UnsupportedOperationException',
        `${operation} is an AWS KMS operation the local KMS does not implement.`,
      )
    : new KmsError('UnknownOperationException', `Unknown operation ${operation}.`);
}

/** Internal failures keep their detail in the log; the client learns only that it may retry. */
function asKmsError(
  error: unknown,
  logger: Logger,
  where: { region?: string; operation?: string },
): KmsError {
  if (isKmsError(error)) return error;
  logger.error({ ...where, err: error }, 'local KMS internal error');
  return new KmsError(
    'KMSInternalException',
    'The request was rejected because an internal exception occurred. The request can be retried.',
  );
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
