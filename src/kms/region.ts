import type { Logger } from 'pino';
import type { KmsConfig } from '../config/schema.js';
import {
  CircuitBreaker,
  type CircuitState,
  type Permit,
  type TripReason,
} from '../resilience/circuit-breaker.js';
import type { Clock } from '../resilience/clock.js';
import { abortable, isDeadline } from '../resilience/deadline.js';
import { classifyAwsError, logDetail, type FailureKind } from '../resilience/failures.js';
import { LogLimiter } from '../resilience/log-limiter.js';
import type { EncryptionContext, KmsBackend } from './backend.js';
import { RegionCallError } from './errors.js';

export type KmsOperation = 'GenerateDataKey' | 'Encrypt' | 'Decrypt' | 'DescribeKey';

/** What an operator (and /readyz) needs to know about one region. */
export interface RegionHealth {
  region: string;
  circuit: CircuitState;
  /** Why the circuit is not closed. */
  trippedBy?: TripReason;
  /** The last call that got an answer or failed (cancelled calls are not counted). */
  lastCall?: { at: string; operation: KmsOperation; outcome: 'ok' | FailureKind; reason?: string };
  latencyMs?: number;
}

export interface RegionOptions {
  name: string;
  keyId: string;
  backend: KmsBackend;
  circuit: KmsConfig['circuit'];
  /**
   * `[kms] timeout_ms`: a call the request's deadline cut off after this long had an attempt
   * time out, and counts against the region. Without it, such calls count neither way.
   */
  attemptTimeoutMs?: number | undefined;
  clock: Clock;
  logger?: Logger | undefined;
  /** Told about every call's outcome, for the metrics. */
  onCall?: (call: { region: string; operation: KmsOperation; outcome: string; ms: number }) => void;
}

/** Misconfiguration is logged at error, but at most once a minute per region. */
const MISCONFIGURED_LOG_INTERVAL_MS = 60_000;

/**
 * One KMS region: its key, its backend, and its health. A circuit breaker fed by real
 * outcomes skips a failing region until a probe succeeds; a misconfigured region (its key
 * disabled, missing or forbidden) is skipped the same way but reported at error level;
 * a refused ciphertext or a cancelled call says nothing about the region.
 */
export class Region {
  readonly name: string;
  readonly keyId: string;
  private readonly backend: KmsBackend;
  private readonly breaker: CircuitBreaker;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly onCall: RegionOptions['onCall'];
  private readonly attemptTimeoutMs: number;
  private readonly misconfiguredLog: LogLimiter;
  /** A latency older than this is forgotten, so a region once slow is tried first again later. */
  private readonly latencyMemoryMs: number;
  private latency: { ms: number; at: number } | undefined;
  private lostRaceAt: number | undefined;
  private lastCall: RegionHealth['lastCall'];
  private keyArnLookup: Promise<string> | undefined;

  constructor({ name, keyId, backend, circuit, attemptTimeoutMs, clock, logger, onCall }: RegionOptions) {
    this.name = name;
    this.attemptTimeoutMs = attemptTimeoutMs ?? Infinity;
    this.keyId = keyId;
    this.backend = backend;
    this.clock = clock;
    this.logger = logger;
    this.onCall = onCall;
    this.latencyMemoryMs = circuit.window_ms;
    this.misconfiguredLog = new LogLimiter(MISCONFIGURED_LOG_INTERVAL_MS, clock);
    this.breaker = new CircuitBreaker({
      failureRatePercent: circuit.failure_rate_percent,
      minimumCalls: circuit.minimum_calls,
      windowMs: circuit.window_ms,
      resetAfterMs: circuit.reset_after_ms,
      clock,
      onChange: ({ to, reason }) => {
        if (to === 'closed') logger?.info({ region: name }, 'KMS region healthy again: circuit closed');
        else if (reason === 'failing') {
          logger?.warn(
            { region: name, retryAfterMs: circuit.reset_after_ms },
            'KMS region circuit opened after repeated failures: skipping the region until a probe succeeds',
          );
        }
      },
    });
  }

  get circuit(): CircuitState {
    return this.breaker.state;
  }

  /** Whether a call would be made now (closed, or half-open with its probe not taken yet). */
  get callable(): boolean {
    return this.breaker.permits;
  }

  /** Half-open with nobody probing: the next call is the probe. */
  get probeDue(): boolean {
    return this.breaker.probeDue;
  }

  /** Moving average of recent answers' latency; undefined when none was measured lately. */
  get averageLatencyMs(): number | undefined {
    if (!this.latency || this.clock() - this.latency.at > this.latencyMemoryMs) return undefined;
    return this.latency.ms;
  }

  /**
   * A call here lost to a hedge lately: the region is tried after the others until the
   * memory passes, then first again — one lost race is enough to move reads, and a
   * region that recovered gets them back within that memory.
   */
  get lostRaceRecently(): boolean {
    return this.lostRaceAt !== undefined && this.clock() - this.lostRaceAt <= this.latencyMemoryMs;
  }

  get health(): RegionHealth {
    const latencyMs = this.averageLatencyMs;
    return {
      region: this.name,
      circuit: this.circuit,
      ...(this.breaker.reason && this.circuit !== 'closed' ? { trippedBy: this.breaker.reason } : {}),
      ...(this.lastCall ? { lastCall: this.lastCall } : {}),
      ...(latencyMs !== undefined ? { latencyMs: Math.round(latencyMs) } : {}),
    };
  }

  generateDataKey(
    context: EncryptionContext,
    numberOfBytes: number,
    signal?: AbortSignal,
  ): Promise<{ plaintext: Uint8Array; ciphertext: Uint8Array }> {
    return this.call('GenerateDataKey', signal, (s) =>
      this.backend.generateDataKey({ keyId: this.keyId, numberOfBytes, context }, s),
    );
  }

  /** `context` undefined encrypts as the original RKMS did, for its items. */
  async encrypt(
    plaintext: Uint8Array,
    context: EncryptionContext | undefined,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const { ciphertext } = await this.call('Encrypt', signal, (s) =>
      this.backend.encrypt({ keyId: this.keyId, plaintext, context }, s),
    );
    return ciphertext;
  }

  /**
   * Decrypts under the region's configured key; with `anyKey`, under whichever key made the
   * ciphertext (to find copies made under an older key) — the reply says which one.
   */
  decrypt(
    ciphertext: Uint8Array,
    context: EncryptionContext | undefined,
    signal?: AbortSignal,
    { anyKey = false } = {},
  ): Promise<{ plaintext: Uint8Array; keyArn: string | undefined }> {
    return this.call('Decrypt', signal, (s) =>
      this.backend.decrypt({ keyId: anyKey ? undefined : this.keyId, ciphertext, context }, s),
    );
  }

  /** The ARN of the region's configured key (looked up once). */
  keyArn(signal?: AbortSignal): Promise<string> {
    this.keyArnLookup ??= this.call('DescribeKey', signal, (s) =>
      this.backend.describeKey(this.keyId, s),
    ).then(
      ({ arn }) => arn,
      (err: unknown) => {
        this.keyArnLookup = undefined;
        throw err;
      },
    );
    return this.keyArnLookup;
  }

  /** The failure of a call this region's circuit does not let through. */
  skipped(): RegionCallError {
    const why = this.breaker.reason === 'misconfigured' ? 'its key is unusable' : 'repeated failures';
    return new RegionCallError(this.name, 'skipped', `skipped: circuit ${this.circuit} after ${why}`);
  }

  close(): void {
    this.backend.close();
  }

  private async call<T>(
    operation: KmsOperation,
    signal: AbortSignal | undefined,
    send: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    const permit = this.breaker.acquire();
    if (!permit) throw this.skipped();
    // Durations are real time; the injected clock dates events and ages what was measured.
    const started = performance.now();
    // A probe runs to its end even when the caller stops waiting: its outcome closes the circuit.
    const work = send(permit === 'probe' ? undefined : signal).then(
      (reply) => {
        this.succeeded(permit, operation, performance.now() - started);
        return reply;
      },
      (err: unknown) => {
        throw this.failed(permit, operation, err, performance.now() - started, signal);
      },
    );
    try {
      return await abortable(work, signal);
    } catch (err) {
      if (err instanceof RegionCallError && err.kind !== 'cancelled') throw err;
      // Stopped waiting because another region answered first: tried after the others for a while.
      this.lostRaceAt = this.clock();
      if (err instanceof RegionCallError) throw err;
      return this.cancelledWhileWaiting(operation, signal);
    }
  }

  private succeeded(permit: Permit, operation: KmsOperation, ms: number): void {
    this.breaker.success(permit);
    this.recordLatency(ms);
    this.lastCall = { at: new Date(this.clock()).toISOString(), operation, outcome: 'ok' };
    this.onCall?.({ region: this.name, operation, outcome: 'ok', ms });
  }

  private failed(
    permit: Permit,
    operation: KmsOperation,
    err: unknown,
    ms: number,
    signal: AbortSignal | undefined,
  ): RegionCallError {
    const classified = classifyAwsError(err);
    // The SDK retries inside one call: a call the deadline cut off after an attempt's timeout
    // is the only sign of a hung region when the attempts add up to more than the deadline.
    const hung = classified.kind === 'cancelled' && isDeadline(signal) && ms >= this.attemptTimeoutMs;
    const { kind, reason } = hung
      ? { kind: 'transient' as const, reason: 'no answer before the request deadline' }
      : classified;
    this.onCall?.({ region: this.name, operation, outcome: kind, ms });
    switch (kind) {
      case 'cancelled':
        this.breaker.release(permit);
        return new RegionCallError(
          this.name,
          'cancelled',
          isDeadline(signal)
            ? 'no answer before the request deadline'
            : `no answer within ${Math.round(ms)} ms`,
        );
      case 'rejected':
        this.breaker.release(permit);
        this.recordLatency(ms);
        break;
      case 'misconfigured':
        this.breaker.trip('misconfigured', permit);
        this.reportMisconfigured(operation, reason, err);
        break;
      default:
        this.breaker.failure(permit);
    }
    this.lastCall = { at: new Date(this.clock()).toISOString(), operation, outcome: kind, reason };
    return new RegionCallError(this.name, kind, `${operation}: ${reason}`, logDetail(err), { cause: err });
  }

  private cancelledWhileWaiting(operation: KmsOperation, signal: AbortSignal | undefined): never {
    const reason = isDeadline(signal) ? 'no answer before the request deadline' : 'cancelled';
    throw new RegionCallError(this.name, 'cancelled', `${operation}: ${reason}`);
  }

  private reportMisconfigured(operation: KmsOperation, reason: string, err: unknown): void {
    const suppressed = this.misconfiguredLog.take(reason);
    if (suppressed === undefined) return;
    this.logger?.error(
      { region: this.name, keyId: this.keyId, operation, reason, detail: logDetail(err), suppressed },
      'KMS region cannot use its configured key: skipping the region; check the key and the permissions',
    );
  }

  private recordLatency(ms: number): void {
    const previous = this.averageLatencyMs;
    this.latency = { ms: previous === undefined ? ms : 0.7 * previous + 0.3 * ms, at: this.clock() };
  }
}
