import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { CiphertextRejectedError, KmsUnavailableError, RegionCallError } from './errors.js';
import { AllCandidatesFailed, firstAnswer, type Candidate } from './hedge.js';
import { Region, createKmsClient, type EncryptionContext, type RegionClientOptions } from './region.js';

export interface NewDataKey {
  plaintext: Uint8Array;
  /** Region → ciphertext, for every region that produced one. */
  ciphertexts: Record<string, Uint8Array>;
  /** The regions that could not encrypt the key. */
  failures: RegionCallError[];
}

export interface RegionalKmsOptions {
  /** Start the next region when the current one has not answered after this long; 0 = only on failure. */
  hedgeAfterMs: number;
}

/** The configured KMS regions, used as one: any region can serve a read, every region gets a copy. */
export class RegionalKms {
  readonly regions: readonly Region[];
  private readonly hedgeAfterMs: number;

  constructor(regions: Region[], { hedgeAfterMs }: RegionalKmsOptions) {
    if (regions.length === 0) throw new Error('RegionalKms needs at least one region');
    this.regions = regions;
    this.hedgeAfterMs = hedgeAfterMs;
  }

  get names(): string[] {
    return this.regions.map((r) => r.name);
  }

  /**
   * Regions in the order to try them: the configured order (nearest first), with
   * slow regions after fast ones and regions whose circuit is not closed last.
   */
  preferred(): Region[] {
    const rank = (region: Region) => {
      if (region.circuit === 'open') return 3;
      if (region.circuit === 'half-open') return 2;
      const slow = this.hedgeAfterMs > 0 && (region.averageLatencyMs ?? 0) > this.hedgeAfterMs;
      return slow ? 1 : 0;
    };
    return this.regions
      .map((region, index) => ({ region, index, rank: rank(region) }))
      .sort((a, b) => a.rank - b.rank || a.index - b.index)
      .map((entry) => entry.region);
  }

  /** Decrypts in one region, falling back (and hedging) to the others; the first plaintext wins. */
  async decrypt(
    ciphertexts: Record<string, Uint8Array>,
    context: EncryptionContext | undefined,
  ): Promise<{ plaintext: Uint8Array; region: string }> {
    const candidates: Candidate<Uint8Array>[] = this.preferred()
      .filter((region) => ciphertexts[region.name] !== undefined)
      .map((region) => ({
        name: region.name,
        run: (signal) => region.decrypt(ciphertexts[region.name]!, context, signal),
      }));
    if (candidates.length === 0) {
      throw new KmsUnavailableError(
        `decrypt a key stored for ${Object.keys(ciphertexts).join(', ')} (configured: ${this.names.join(', ')})`,
        [],
      );
    }
    try {
      const { value, name } = await firstAnswer(candidates, {
        hedgeAfterMs: this.hedgeAfterMs,
        discard: wipe,
      });
      return { plaintext: value, region: name };
    } catch (err) {
      const failures = regionFailures(err);
      if (failures.every((f) => f.kind === 'rejected')) throw new CiphertextRejectedError(failures);
      throw new KmsUnavailableError('decrypt the key', failures);
    }
  }

  /**
   * Generates a data key in one region (with fallback), then encrypts it in every
   * other region in parallel.
   */
  async createDataKey(context: EncryptionContext, numberOfBytes: number): Promise<NewDataKey> {
    let generated: { value: { plaintext: Uint8Array; ciphertext: Uint8Array }; name: string };
    try {
      generated = await firstAnswer(
        this.preferred().map((region) => ({
          name: region.name,
          run: (signal) => region.generateDataKey(context, numberOfBytes, signal),
        })),
        {
          hedgeAfterMs: this.hedgeAfterMs,
          discard: (key) => {
            wipe(key.plaintext);
          },
        },
      );
    } catch (err) {
      throw new KmsUnavailableError('generate a data key', regionFailures(err));
    }
    const { plaintext, ciphertext } = generated.value;
    const others = this.regions.filter((region) => region.name !== generated.name);
    const copies = await Promise.allSettled(others.map((region) => region.encrypt(plaintext, context)));

    const ciphertexts: Record<string, Uint8Array> = { [generated.name]: ciphertext };
    const failures: RegionCallError[] = [];
    copies.forEach((copy, i) => {
      if (copy.status === 'fulfilled') ciphertexts[others[i]!.name] = copy.value;
      else failures.push(asRegionFailure(copy.reason, others[i]!.name));
    });
    return { plaintext, ciphertexts, failures };
  }

  close(): void {
    for (const region of this.regions) region.close();
  }
}

function regionFailures(err: unknown): RegionCallError[] {
  if (!(err instanceof AllCandidatesFailed)) throw err;
  return err.errors.map((e) => asRegionFailure(e, 'unknown region'));
}

function asRegionFailure(err: unknown, region: string): RegionCallError {
  return err instanceof RegionCallError
    ? err
    : new RegionCallError(region, 'unavailable', String(err), { cause: err });
}

export function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}

export interface RegionalKmsFromConfigOptions {
  config: Config['kms'];
  /** Overrides every region's endpoint: the embedded local KMS. */
  endpoint?: string;
  credentials?: RegionClientOptions['credentials'];
  logger?: Logger;
}

export function regionalKmsFromConfig({
  config,
  endpoint,
  credentials,
  logger,
}: RegionalKmsFromConfigOptions) {
  const regions = config.regions.map((name) => {
    const regionEndpoint = endpoint ?? config.endpoints[name];
    const client = createKmsClient({
      region: name,
      kms: config,
      ...(regionEndpoint ? { endpoint: regionEndpoint } : {}),
      ...(credentials ? { credentials } : {}),
    });
    return new Region({
      name,
      keyId: config.key_ids[name] ?? `alias/rkms-${name}`,
      client,
      circuit: config.circuit,
      ...(logger ? { logger } : {}),
    });
  });
  return new RegionalKms(regions, { hedgeAfterMs: config.hedge_after_ms });
}
