import { untilAborted } from './abortable.js';
import type { Answer, ApiRequest } from './attempt.js';
import { encodedKeyOf, statusOf, type KeyStatus } from './bodies.js';
import { callLimits, callRkms, type CallLimits, type Exchange } from './call.js';
import { answerError } from './classify.js';
import { checkHeader, open, seal, type Bytes } from './envelope.js';
import type { RkmsError } from './errors.js';
import { KeyCache } from '../shared/key-cache.js';
import { resolveOptions, type CallOptions, type ResolvedOptions, type RkmsClientOptions } from './options.js';
import { Replicas } from './replicas.js';
import { RetryBudget } from './retry-budget.js';
import { keyFromBase64 } from '../shared/secret-bytes.js';
import { SingleFlight } from '../shared/single-flight.js';

/**
 * A client of RKMS's replicas: data keys by id, and envelope encryption with them.
 * Calls retry across the replicas within a deadline (docs/client.md).
 */
export class RkmsClient {
  private readonly options: ResolvedOptions;
  private readonly replicas: Replicas;
  private readonly budget = new RetryBudget();
  private cache: KeyCache | undefined;
  private readonly flights = new SingleFlight<string>();
  /** Counts deletions, so that a read that started before one does not cache what it deleted. */
  private deletions = 0;

  constructor(options: RkmsClientOptions) {
    this.options = resolveOptions(options);
    this.replicas = new Replicas(this.options.urls, this.options.random);
    const { cache, clock } = this.options;
    this.cache = cache && new KeyCache({ ...cache, clock });
  }

  /**
   * The id's data key, created on the first call for the id. The Buffer is the caller's
   * own copy: wipe it with `fill(0)` when done. Concurrent calls for one id share one
   * request (and its deadline, the first caller's).
   */
  async getKey(id: string, call?: CallOptions): Promise<Buffer> {
    const cached = this.cache?.get(id);
    if (cached) return cached;
    const limits = callLimits(this.options, call);
    const shared = this.flights.run(id, () => this.fetchKey(id, { deadlineAt: limits.deadlineAt }));
    return keyFromBase64(await untilAborted(shared, call?.signal));
  }

  /**
   * Creates the id's key explicitly (POST /key): needed for an id whose key was destroyed.
   * Rejects with `KeyExists` when the id has a key, except after a retry of an attempt
   * whose answer was lost: then that attempt may have created the key, and the id's key
   * is returned.
   */
  async createKey(id: string, call?: CallOptions): Promise<Buffer> {
    const limits = callLimits(this.options, call);
    const exchange = await this.send({ method: 'POST', path: '/key', id }, limits);
    if (isSuccess(exchange.answer)) {
      const encoded = encodedKeyOf(exchange, id);
      this.remember(id, encoded);
      return keyFromBase64(encoded);
    }
    if (exchange.earlierMayHaveApplied && errorTypeOf(exchange.answer) === 'KeyExists')
      return keyFromBase64(await this.fetchKey(id, limits));
    throw failure(exchange);
  }

  /** Schedules the id's key for deletion (DELETE /key) and drops it from this client's cache. */
  async deleteKey(id: string, call?: CallOptions): Promise<KeyStatus> {
    this.deletions += 1;
    this.cache?.delete(id);
    return this.statusCall({ method: 'DELETE', path: '/key', id }, call);
  }

  /** Cancels a pending deletion (POST /key/restore). */
  async restoreKey(id: string, call?: CallOptions): Promise<KeyStatus> {
    return this.statusCall({ method: 'POST', path: '/key/restore', id }, call);
  }

  /**
   * Encrypts `plaintext` (a string is UTF-8) with the id's key, AES-256-GCM, a random
   * nonce, the id and `aad` bound to it. Returns the envelope (docs/client.md).
   */
  async encrypt(id: string, plaintext: Bytes, aad?: Bytes, call?: CallOptions): Promise<Buffer> {
    const key = await this.getKey(id, call);
    try {
      return seal(key, id, plaintext, aad);
    } finally {
      key.fill(0);
    }
  }

  /** The plaintext of an envelope `encrypt` made for the same id and AAD; EnvelopeError otherwise. */
  async decrypt(id: string, envelope: Uint8Array, aad?: Bytes, call?: CallOptions): Promise<Buffer> {
    // A malformed envelope fails here, before any call to RKMS.
    checkHeader(envelope);
    const key = await this.getKey(id, call);
    try {
      return open(key, id, envelope, aad);
    } finally {
      key.fill(0);
    }
  }

  /** Wipes the cached keys and stops the cache's timer; the client caches nothing afterwards. */
  close(): void {
    this.cache?.close();
    this.cache = undefined;
  }

  private async fetchKey(id: string, limits: CallLimits): Promise<string> {
    const deletions = this.deletions;
    const exchange = await this.send({ method: 'GET', path: '/key', id }, limits);
    if (!isSuccess(exchange.answer)) throw failure(exchange);
    const encoded = encodedKeyOf(exchange, id);
    if (deletions === this.deletions) this.remember(id, encoded);
    return encoded;
  }

  private remember(id: string, encoded: string): void {
    if (!this.cache) return;
    const key = keyFromBase64(encoded);
    this.cache.set(id, key);
    key.fill(0);
  }

  private async statusCall(request: ApiRequest, call: CallOptions | undefined): Promise<KeyStatus> {
    const exchange = await this.send(request, callLimits(this.options, call));
    if (!isSuccess(exchange.answer)) throw failure(exchange);
    return statusOf(exchange, request.id);
  }

  private send(request: ApiRequest, limits: CallLimits): Promise<Exchange> {
    return callRkms(request, limits, { options: this.options, replicas: this.replicas, budget: this.budget });
  }
}

/** The error of a call that ended with an error answer. */
function failure({ answer, url, attempts }: Exchange): RkmsError {
  return answerError(answer, url, false, attempts);
}

function isSuccess(answer: Answer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

function errorTypeOf(answer: Answer): unknown {
  return (answer.body as { error_type?: unknown } | undefined)?.error_type;
}
