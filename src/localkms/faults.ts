import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { describeSchemaErrors } from '../shared/schema-errors.js';

/**
 * Faults injected per region, so a test can make one region fail while the
 * others work. Each fault can be limited to a probability and to some
 * operations; faults apply in the order down, latency, throttle, error.
 */

const Probability = Type.Number({ minimum: 0, maximum: 1 });
const Operations = Type.Array(Type.String({ minLength: 1 }), { minItems: 1 });

const FaultRuleSchema = Type.Object(
  {
    /** Chance that a call is hit, 0–1; 1 when omitted. */
    probability: Type.Optional(Probability),
    /** Only these operations (e.g. ["Decrypt"]) are hit; all when omitted. */
    operations: Type.Optional(Operations),
  },
  { additionalProperties: false },
);

const LatencyRuleSchema = Type.Object(
  {
    /** Milliseconds added before the call is answered. */
    ms: Type.Integer({ minimum: 0, maximum: 600_000 }),
    probability: Type.Optional(Probability),
    operations: Type.Optional(Operations),
  },
  { additionalProperties: false },
);

export const RegionFaultsSchema = Type.Object(
  {
    /** Connections are refused (region port) or closed without an answer (shared port). */
    down: Type.Optional(FaultRuleSchema),
    latency: Type.Optional(LatencyRuleSchema),
    /** ThrottlingException (HTTP 400), which the SDK retries. */
    throttle: Type.Optional(FaultRuleSchema),
    /** KMSInternalException (HTTP 500), which the SDK retries. */
    error: Type.Optional(FaultRuleSchema),
  },
  { additionalProperties: false },
);

export type FaultRule = Static<typeof FaultRuleSchema>;
export type LatencyRule = Static<typeof LatencyRuleSchema>;
export type RegionFaults = Static<typeof RegionFaultsSchema>;
export type FaultMode = keyof RegionFaults;
/** Faults by region name; a region without faults is absent. */
export type FaultsByRegion = Record<string, RegionFaults>;

/** The faults of a running local KMS; the admin endpoint changes the same object. */
export interface Faults {
  /** Replaces the faults of one region; `{}` clears them. Throws on an unknown region or a bad rule. */
  set(region: string, faults: RegionFaults): void;
  /** Clears the faults of one region, or of every region. */
  clear(region?: string): void;
  /** A copy of the faults in force. */
  get(): FaultsByRegion;
}

/** What to do to one call. */
export interface FaultDecision {
  readonly down: boolean;
  readonly latencyMs: number;
  readonly throttle: boolean;
  readonly error: boolean;
}

export class FaultError extends Error {}

export class FaultTable implements Faults {
  private readonly byRegion = new Map<string, RegionFaults>();
  private readonly listeners: ((region: string) => void)[] = [];

  constructor(
    private readonly regions: readonly string[],
    private readonly random: () => number,
  ) {}

  set(region: string, faults: RegionFaults): void {
    this.assertRegion(region);
    if (!Value.Check(RegionFaultsSchema, faults)) throw new FaultError(describeFaultErrors(faults));
    if (Object.keys(faults).length === 0) this.byRegion.delete(region);
    else this.byRegion.set(region, structuredClone(faults));
    this.notify(region);
  }

  clear(region?: string): void {
    const regions = region === undefined ? [...this.byRegion.keys()] : [region];
    if (region !== undefined) this.assertRegion(region);
    for (const name of regions) {
      this.byRegion.delete(name);
      this.notify(name);
    }
  }

  get(): FaultsByRegion {
    return Object.fromEntries(
      [...this.byRegion].map(([region, faults]) => [region, structuredClone(faults)]),
    );
  }

  /** Called after the faults of a region change; region listeners use it to stop or resume listening. */
  onChange(listener: (region: string) => void): void {
    this.listeners.push(listener);
  }

  /** True when the region is down for every call, so a region port can refuse connections outright. */
  isWhollyDown(region: string): boolean {
    const down = this.byRegion.get(region)?.down;
    return down !== undefined && (down.probability ?? 1) >= 1 && down.operations === undefined;
  }

  decide(region: string, operation: string): FaultDecision {
    const faults = this.byRegion.get(region);
    if (!faults) return NO_FAULT;
    return {
      down: this.hits(faults.down, operation),
      latencyMs: faults.latency && this.hits(faults.latency, operation) ? faults.latency.ms : 0,
      throttle: this.hits(faults.throttle, operation),
      error: this.hits(faults.error, operation),
    };
  }

  private hits(rule: FaultRule | undefined, operation: string): boolean {
    if (!rule) return false;
    if (rule.operations && !rule.operations.includes(operation)) return false;
    const probability = rule.probability ?? 1;
    return probability >= 1 || this.random() < probability;
  }

  private assertRegion(region: string): void {
    if (!this.regions.includes(region)) {
      throw new FaultError(`unknown region ${region}; this local KMS serves ${this.regions.join(', ')}`);
    }
  }

  private notify(region: string): void {
    for (const listener of this.listeners) listener(region);
  }
}

const NO_FAULT: FaultDecision = { down: false, latencyMs: 0, throttle: false, error: false };

function describeFaultErrors(faults: unknown): string {
  const problems = describeSchemaErrors(RegionFaultsSchema, faults, 3);
  return `invalid faults: ${problems.join('; ')} (expected e.g. {"latency":{"ms":500,"probability":0.5},"down":{}})`;
}
