import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CallCounter } from './counters.js';
import { isKmsError, KmsError } from './errors.js';
import type { FaultTable } from './faults.js';
import type { KeyStore } from './keystore.js';
import { OPERATIONS, UNSUPPORTED_AWS_OPERATIONS, type WireObject } from './operations/index.js';
import { operationOf, parseJsonBody, readBody, sendError, sendResult, BodyTooLargeError } from './protocol.js';
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
  return async function handleKmsCall(req: IncomingMessage, res: ServerResponse, portRegion: string | undefined): Promise<void> {
    const started = process.hrtime.bigint();
    let region: string | undefined;
    let operation: string | undefined;
    let request: Record<string, unknown> | undefined;
    let response: WireObject | undefined;
    let failure: KmsError | undefined;
    try {
      operation = operationOf(headerOf(req, 'x-amz-target'));
      region = regionOf(req, portRegion, deps.regions);
      if (OPERATIONS.has(operation) || UNSUPPORTED_AWS_OPERATIONS.has(operation)) deps.counter.record(region, operation);
      const fault = deps.faults.decide(region, operation);
      if (fault.down) {
        // A down region answers nothing: the client sees a reset connection, as with a network failure.
        req.socket.destroy();
        deps.logger.debug({ region, operation }, 'fault: connection dropped');
        return;
      }
      const body = await readBody(req);
      if (fault.latencyMs > 0) await sleep(fault.latencyMs, undefined, { signal: deps.lifetime });
      if (fault.throttle) throw new KmsError('ThrottlingException', 'Rate exceeded');
      if (fault.error) throw new KmsError('KMSInternalException', 'The request was rejected because an internal exception occurred (injected fault). The request can be retried.');
      if (deps.accessKeys) {
        verifySignature({ method: req.method ?? 'POST', url: req.url ?? '/', rawHeaders: req.rawHeaders, body }, deps.accessKeys, Date.now());
      }
      const run = OPERATIONS.get(operation);
      if (!run) throw unknownOperation(operation);
      request = parseJsonBody(body);
      if (run.changesState) deps.store.maintain();
      response = await run.run(request, { region, store: deps.store, persist: deps.persist });
      sendResult(res, response);
    } catch (error) {
      if (deps.lifetime.aborted || req.socket.destroyed) return;
      failure = asKmsError(error, deps.logger, { region, operation });
      sendError(res, failure, error instanceof BodyTooLargeError);
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      deps.logger.debug({ region, operation, status: res.statusCode, error: failure?.type, ms }, 'kms call');
      deps.logger.trace({ region, operation, request, response, error: failure?.message }, 'kms call bodies');
    }
  };
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
    ? new KmsError('UnsupportedOperationException', `${operation} is an AWS KMS operation the local KMS does not implement.`)
    : new KmsError('UnknownOperationException', `Unknown operation ${operation}.`);
}

/** Internal failures keep their detail in the log; the client learns only that it may retry. */
function asKmsError(error: unknown, logger: Logger, where: { region?: string; operation?: string }): KmsError {
  if (isKmsError(error)) return error;
  logger.error({ ...where, err: error }, 'local KMS internal error');
  return new KmsError('KMSInternalException', 'The request was rejected because an internal exception occurred. The request can be retried.');
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
