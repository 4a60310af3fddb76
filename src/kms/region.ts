import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { AwsCredentialIdentity } from '@smithy/types';
import CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import { awsRequestHandler } from '../config/aws.js';
import type { KmsConfig } from '../config/schema.js';
import { RegionCallError, describeKmsError, failureKind, isAbort } from './errors.js';

export type EncryptionContext = Record<string, string>;
export type CircuitState = 'closed' | 'open' | 'half-open';

type Send = () => Promise<unknown>;

export interface RegionOptions {
  name: string;
  keyId: string;
  client: KMSClient;
  circuit: KmsConfig['circuit'];
  logger?: Logger;
}

/**
 * One KMS region: its client, its key, and a circuit breaker so that a failing
 * region is skipped until a probe call succeeds again.
 */
export class Region {
  readonly name: string;
  readonly keyId: string;
  private readonly client: KMSClient;
  private readonly breaker: CircuitBreaker<[Send]>;
  private latencyMs: number | undefined;
  private latencyMeasuredAt = 0;
  /** A latency older than this is forgotten, so a region once slow is tried first again later. */
  private readonly latencyMemoryMs: number;

  constructor({ name, keyId, client, circuit, logger }: RegionOptions) {
    this.name = name;
    this.latencyMemoryMs = circuit.window_ms;
    this.keyId = keyId;
    this.client = client;
    this.breaker = new CircuitBreaker((send: Send) => send(), {
      name,
      timeout: false, // each attempt has the SDK's own timeout
      errorThresholdPercentage: circuit.failure_rate_percent,
      volumeThreshold: circuit.minimum_calls,
      rollingCountTimeout: circuit.window_ms,
      resetTimeout: circuit.reset_after_ms,
      // A refused ciphertext or a call we cancelled says nothing about the region's health.
      errorFilter: (err: unknown) => failureKind(err) === 'rejected' || isAbort(err),
    });
    this.breaker.on('open', () =>
      logger?.warn({ region: name }, 'KMS region circuit opened: skipping the region'),
    );
    this.breaker.on('halfOpen', () =>
      logger?.info({ region: name }, 'KMS region circuit half-open: probing'),
    );
    this.breaker.on('close', () =>
      logger?.info({ region: name }, 'KMS region circuit closed: region healthy'),
    );
  }

  get circuit(): CircuitState {
    if (this.breaker.opened) return 'open';
    return this.breaker.halfOpen ? 'half-open' : 'closed';
  }

  /** Moving average of recent successful calls' latency; undefined when none succeeded lately. */
  get averageLatencyMs(): number | undefined {
    return performance.now() - this.latencyMeasuredAt <= this.latencyMemoryMs ? this.latencyMs : undefined;
  }

  async generateDataKey(
    context: EncryptionContext,
    numberOfBytes: number,
    signal?: AbortSignal,
  ): Promise<{ plaintext: Uint8Array; ciphertext: Uint8Array }> {
    const reply = await this.call(signal, 'GenerateDataKey', (abortSignal) =>
      this.client.send(
        new GenerateDataKeyCommand({
          KeyId: this.keyId,
          NumberOfBytes: numberOfBytes,
          EncryptionContext: context,
        }),
        { abortSignal },
      ),
    );
    const { Plaintext: plaintext, CiphertextBlob: ciphertext } = reply;
    if (!plaintext || plaintext.length !== numberOfBytes || !ciphertext?.length) {
      plaintext?.fill(0);
      throw new RegionCallError(this.name, 'unavailable', `GenerateDataKey returned a malformed reply`);
    }
    return { plaintext, ciphertext };
  }

  async encrypt(
    plaintext: Uint8Array,
    context: EncryptionContext,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const reply = await this.call(signal, 'Encrypt', (abortSignal) =>
      this.client.send(
        new EncryptCommand({ KeyId: this.keyId, Plaintext: plaintext, EncryptionContext: context }),
        {
          abortSignal,
        },
      ),
    );
    if (!reply.CiphertextBlob?.length) {
      throw new RegionCallError(this.name, 'unavailable', 'Encrypt returned a malformed reply');
    }
    return reply.CiphertextBlob;
  }

  /** `context` undefined decrypts a ciphertext the original RKMS made without one. */
  async decrypt(
    ciphertext: Uint8Array,
    context: EncryptionContext | undefined,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const reply = await this.call(signal, 'Decrypt', (abortSignal) =>
      this.client.send(
        new DecryptCommand({
          KeyId: this.keyId,
          CiphertextBlob: ciphertext,
          ...(context ? { EncryptionContext: context } : {}),
        }),
        { abortSignal },
      ),
    );
    if (!reply.Plaintext?.length) {
      throw new RegionCallError(this.name, 'unavailable', 'Decrypt returned a malformed reply');
    }
    return reply.Plaintext;
  }

  close(): void {
    this.breaker.shutdown();
    this.client.destroy();
  }

  private async call<T>(
    signal: AbortSignal | undefined,
    operation: string,
    send: (abortSignal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    try {
      const reply = (await this.breaker.fire(() => send(signal))) as T;
      this.recordLatency(performance.now() - started);
      return reply;
    } catch (err) {
      // Cancelled because another region answered first: it took at least this long.
      if (isAbort(err)) this.recordLatency(performance.now() - started);
      throw new RegionCallError(this.name, failureKind(err), `${operation}: ${describeKmsError(err)}`, {
        cause: err,
      });
    }
  }

  private recordLatency(ms: number): void {
    const previous = this.averageLatencyMs;
    this.latencyMs = previous === undefined ? ms : 0.8 * previous + 0.2 * ms;
    this.latencyMeasuredAt = performance.now();
  }
}

export interface RegionClientOptions {
  region: string;
  endpoint?: string;
  kms: Pick<KmsConfig, 'timeout_ms' | 'connect_timeout_ms' | 'max_attempts'>;
  credentials?: AwsCredentialIdentity;
}

export function createKmsClient({ region, endpoint, kms, credentials }: RegionClientOptions): KMSClient {
  return new KMSClient({
    region,
    maxAttempts: kms.max_attempts,
    requestHandler: awsRequestHandler(kms),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
}
