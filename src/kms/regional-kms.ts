import { firstAnswer, AllCandidatesFailed, type Candidate } from '../resilience/hedge.js';
import type { HedgeBudget } from '../resilience/hedge-budget.js';
import type { EncryptionContext } from './backend.js';
import { CiphertextRejectedError, KmsUnavailableError, RegionCallError, asRegionFailure } from './errors.js';
import { wipe } from './key-material.js';
import type { Kms, NewDataKey, OpenedKey } from './kms.js';
import type { Region, RegionHealth } from './region.js';

export interface RegionalKmsOptions {
  /**
   * Start the next region when the current one has not answered after this long
   * (0 = only on failure). Also how long a new key waits for the last copies once it
   * has `minRegions` of them.
   */
  hedgeAfterMs: number;
  minRegions: number;
  budget?: HedgeBudget | undefined;
  onHedge?: (region: string) => void;
  /** Told when a hedged call answered first. */
  onHedgeWon?: (region: string) => void;
}

/** The configured KMS regions, used as one: any region can open a key, every reachable region gets a copy. */
export class RegionalKms implements Kms {
  readonly regions: readonly string[];
  readonly minRegions: number;
  private readonly byName: ReadonlyMap<string, Region>;

  constructor(
    private readonly members: readonly Region[],
    private readonly options: RegionalKmsOptions,
  ) {
    if (members.length === 0) throw new Error('RegionalKms needs at least one region');
    if (options.minRegions < 1 || options.minRegions > members.length) {
      throw new Error(`minRegions must be between 1 and ${members.length}`);
    }
    this.regions = members.map((r) => r.name);
    this.minRegions = options.minRegions;
    this.byName = new Map(members.map((r) => [r.name, r]));
  }

  /**
   * Callable regions in the order to try them: a half-open region first, so that real
   * traffic probes it with a hedge behind it; then the configured order (nearest first)
   * with slow regions after fast ones. Regions whose circuit is open are left out.
   */
  preferred(): Region[] {
    const rank = (region: Region) => {
      if (region.probeDue) return 0;
      const slow =
        region.lostRaceRecently ||
        (this.options.hedgeAfterMs > 0 && (region.averageLatencyMs ?? 0) > this.options.hedgeAfterMs);
      return slow ? 2 : 1;
    };
    return this.members
      .filter((region) => region.callable)
      .map((region, index) => ({ region, index, rank: rank(region) }))
      .sort((a, b) => a.rank - b.rank || a.index - b.index)
      .map((entry) => entry.region);
  }

  async open(
    copies: Readonly<Record<string, Uint8Array>>,
    context: EncryptionContext | undefined,
    signal?: AbortSignal,
  ): Promise<OpenedKey> {
    const holders = this.members.filter((region) => copies[region.name] !== undefined);
    if (holders.length === 0) {
      throw new KmsUnavailableError(
        `decrypt the key: its copies are in ${Object.keys(copies).join(', ')}, ` +
          `none of them a configured region (${this.regions.join(', ')})`,
        [],
      );
    }
    const candidates = this.preferred().filter((region) => copies[region.name] !== undefined);
    const skipped = holders
      .filter((region) => !candidates.includes(region))
      .map((region) => region.skipped());
    try {
      const answer = await firstAnswer(
        candidates.map((region): Candidate<Uint8Array> => ({
          name: region.name,
          run: async (s) => (await region.decrypt(copies[region.name] as Uint8Array, context, s)).plaintext,
        })),
        this.hedging(signal, wipe),
      );
      if (answer.hedged) this.options.onHedgeWon?.(answer.name);
      const refused = answer.failures
        .map((failure) => asRegionFailure(failure, 'unknown'))
        .filter((failure) => failure.kind === 'rejected');
      return { plaintext: answer.value, region: answer.name, refused };
    } catch (err) {
      const failures = [...skipped, ...candidateFailures(err)];
      if (failures.length > 0 && failures.every((f) => f.kind === 'rejected')) {
        throw new CiphertextRejectedError(failures);
      }
      throw new KmsUnavailableError('decrypt the key', failures);
    }
  }

  async newDataKey(
    context: EncryptionContext,
    numberOfBytes: number,
    signal?: AbortSignal,
  ): Promise<NewDataKey> {
    const usable = this.preferred();
    const skipped = this.members.filter((region) => !usable.includes(region)).map((r) => r.skipped());
    if (usable.length < this.minRegions) {
      // Fail before any KMS call: fewer regions can answer than a new key needs.
      throw new KmsUnavailableError(this.quorumOperation(), skipped);
    }
    const generated = await this.generate(usable, context, numberOfBytes, signal).catch((err: unknown) => {
      throw new KmsUnavailableError(this.quorumOperation(), [...skipped, ...candidateFailures(err)]);
    });
    const failedAlready = new Set(generated.failures.map((f) => f.region));
    const others = usable.filter((r) => r.name !== generated.region && !failedAlready.has(r.name));
    const copied = await this.copyTo(others, generated.plaintext, context, signal);
    const made: Record<string, Uint8Array> = { ...copied.copies, [generated.region]: generated.ciphertext };
    if (Object.keys(made).length < this.minRegions) {
      wipe(generated.plaintext);
      const failures = [...skipped, ...generated.failures, ...copied.failures];
      throw new KmsUnavailableError(this.quorumOperation(), failures);
    }
    return {
      plaintext: generated.plaintext,
      copies: this.inConfiguredOrder(made),
      missing: this.regions.filter((name) => !made[name]),
      generatedIn: generated.region,
    };
  }

  encryptIn(
    region: string,
    plaintext: Uint8Array,
    context: EncryptionContext | undefined,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    return this.member(region).encrypt(plaintext, context, signal);
  }

  decryptIn(
    region: string,
    ciphertext: Uint8Array,
    context: EncryptionContext | undefined,
    { anyKey = false, signal }: { anyKey?: boolean; signal?: AbortSignal } = {},
  ): Promise<{ plaintext: Uint8Array; keyArn: string | undefined }> {
    return this.member(region).decrypt(ciphertext, context, signal, { anyKey });
  }

  keyArn(region: string, signal?: AbortSignal): Promise<string> {
    return this.member(region).keyArn(signal);
  }

  callable(region: string): boolean {
    return this.byName.get(region)?.callable ?? false;
  }

  health(): RegionHealth[] {
    return this.members.map((region) => region.health);
  }

  close(): void {
    for (const region of this.members) region.close();
  }

  private member(name: string): Region {
    const region = this.byName.get(name);
    if (!region) throw new Error(`${name} is not a configured KMS region`);
    return region;
  }

  /**
   * A new key from the first of `usable` to answer (hedged), with the regions that failed
   * before it did. Gives up (AllCandidatesFailed) once too few are left to reach the quorum.
   */
  private async generate(
    usable: readonly Region[],
    context: EncryptionContext,
    numberOfBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<{ plaintext: Uint8Array; ciphertext: Uint8Array; region: string; failures: RegionCallError[] }> {
    const answer = await firstAnswer(
      usable.map((region) => ({
        name: region.name,
        run: (s: AbortSignal) => region.generateDataKey(context, numberOfBytes, s),
      })),
      {
        ...this.hedging(signal, (key: { plaintext: Uint8Array }) => {
          wipe(key.plaintext);
        }),
        maxFailures: usable.length - this.minRegions + 1,
      },
    );
    if (answer.hedged) this.options.onHedgeWon?.(answer.name);
    return {
      ...answer.value,
      region: answer.name,
      failures: answer.failures.map((f) => asRegionFailure(f, 'unknown')),
    };
  }

  /** The copies in the configured order, as every item lists them. */
  private inConfiguredOrder(copies: Readonly<Record<string, Uint8Array>>): Record<string, Uint8Array> {
    const ordered: Record<string, Uint8Array> = {};
    for (const name of this.regions) if (copies[name]) ordered[name] = copies[name];
    return ordered;
  }

  private quorumOperation(): string {
    const of = this.regions.length;
    return `protect a new key in ${this.minRegions} of ${of} regions (kms.min_regions = ${this.minRegions})`;
  }

  private hedging<T>(signal: AbortSignal | undefined, discard: (value: T) => void) {
    return {
      hedgeAfterMs: this.options.hedgeAfterMs,
      budget: this.options.budget,
      signal,
      discard,
      ...(this.options.onHedge ? { onHedge: this.options.onHedge } : {}),
    };
  }

  /**
   * Encrypts the key in every region given, in parallel. Once the quorum is reached the
   * stragglers get `hedgeAfterMs` more, then are cancelled: repair gives them their copy later.
   */
  private async copyTo(
    regions: readonly Region[],
    plaintext: Uint8Array,
    context: EncryptionContext,
    signal: AbortSignal | undefined,
  ): Promise<{ copies: Record<string, Uint8Array>; failures: RegionCallError[] }> {
    const copies: Record<string, Uint8Array> = {};
    const failures: RegionCallError[] = [];
    if (regions.length === 0) return { copies, failures };
    const stragglers = new AbortController();
    const callSignal = signal ? AbortSignal.any([signal, stragglers.signal]) : stragglers.signal;
    const graceMs = this.options.hedgeAfterMs;
    let grace: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      let pending = regions.length;
      const startGraceOnQuorum = () => {
        // The generating region holds one copy already.
        if (graceMs > 0 && !grace && Object.keys(copies).length + 1 >= this.minRegions) {
          grace = setTimeout(resolve, graceMs);
        }
      };
      const settled = () => {
        pending--;
        if (pending === 0) resolve();
        else startGraceOnQuorum();
      };
      startGraceOnQuorum();
      for (const region of regions) {
        region.encrypt(plaintext, context, callSignal).then(
          (ciphertext) => {
            copies[region.name] = ciphertext;
            settled();
          },
          (err: unknown) => {
            failures.push(asRegionFailure(err, region.name));
            settled();
          },
        );
      }
    });
    clearTimeout(grace);
    stragglers.abort();
    return { copies: { ...copies }, failures };
  }
}

function candidateFailures(err: unknown): RegionCallError[] {
  if (!(err instanceof AllCandidatesFailed)) throw err;
  return err.errors.map((e) => asRegionFailure(e, 'unknown region'));
}
