import type { Logger } from 'pino';
import type { Log } from './log.js';
import type { Kms } from '../kms/kms.js';
import { wipe } from '../kms/key-material.js';
import { RegionCallError } from '../kms/errors.js';
import type { Clock } from '../resilience/clock.js';
import { deadlineAfter } from '../resilience/deadline.js';
import { LogLimiter } from '../resilience/log-limiter.js';
import { CHANGED, type Store, type StoredKey } from '../store/store.js';
import { encryptionContextFor } from './id.js';

export interface RepairResult {
  /** Regions that got their copy. */
  repaired: string[];
  /** Regions that could not be given one, and why (safe to print). */
  failed: { region: string; reason: string }[];
  /** The item changed while it was being repaired: read it again before trying more. */
  changed: boolean;
  /** The item after the last successful write. */
  record: StoredKey;
}

export interface RepairerOptions {
  store: Store;
  kms: Kms;
  clock: Clock;
  /** Repairs in flight at once, in the background. */
  concurrency: number;
  /** Each background repair's own deadline. */
  timeoutMs: number;
  logger?: Logger | undefined;
  onRepaired?: (region: string) => void;
  /** Told when a key served lacks a good copy in a region, for the metrics. */
  onIncomplete?: (region: string) => void;
}

/** Repairs waiting beyond this are dropped: the next read of the id offers them again. */
const MAX_WAITING = 1000;
/** Each kind of repair line is logged at most this often per region: an outage would otherwise log every read. */
const LOG_INTERVAL_MS = 60_000;

const MISSING = 'key has no copy in a configured region: repairing it';
const UNREACHABLE =
  'serving keys that have no copy in a region that cannot be reached; they are repaired when it recovers (or by rkms repair)';
const NOT_REPAIRED = 'could not repair some copies; will retry';
const REPAIR_THREW = 'repair failed; the next read retries it';

/**
 * Gives every configured region a good copy of each key it serves. Repair only adds or
 * replaces one region's ciphertext of the same key, each under a conditional update on
 * the item's version: never the key, never another region's copy.
 */
export class Repairer {
  private readonly store: Store;
  private readonly kms: Kms;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly logger: Logger | undefined;
  private readonly onRepaired: RepairerOptions['onRepaired'];
  private readonly onIncomplete: RepairerOptions['onIncomplete'];
  private readonly logLimiter: LogLimiter;
  /** Ids with a repair running or waiting: at most one per id. */
  private readonly queued = new Set<string>();
  private readonly waiting: (() => Promise<void>)[] = [];
  private running = 0;
  private idle: (() => void)[] = [];

  constructor(options: RepairerOptions) {
    this.store = options.store;
    this.kms = options.kms;
    this.concurrency = options.concurrency;
    this.timeoutMs = options.timeoutMs;
    this.logger = options.logger;
    this.onRepaired = options.onRepaired;
    this.onIncomplete = options.onIncomplete;
    this.logLimiter = new LogLimiter(LOG_INTERVAL_MS, options.clock);
  }

  /** Configured regions without a good copy: missing, malformed, or refused by their region. */
  regionsToRepair(record: StoredKey, damaged: readonly string[] = []): string[] {
    return this.kms.regions.filter(
      (region) => record.copies[region] === undefined || damaged.includes(region),
    );
  }

  /**
   * Repairs the item in the background, after the caller got its answer. Takes its own
   * copy of the key and wipes it when done.
   */
  offer(record: StoredKey, plaintext: Uint8Array, damaged: readonly string[] = [], log?: Log): void {
    const logger = log ?? this.logger;
    const needed = this.regionsToRepair(record, damaged);
    if (needed.length === 0) return;
    const { id } = record;
    const reachable = needed.filter((region) => this.kms.callable(region));
    for (const region of needed) {
      this.onIncomplete?.(region);
      if (!reachable.includes(region)) {
        this.report(logger, 'error', `unreachable\u0000${region}`, { id, region }, UNREACHABLE);
      } else if (!damaged.includes(region)) {
        // Damaged copies were reported, with their reason, where they were found.
        this.report(logger, 'error', `missing\u0000${region}`, { id, region }, MISSING);
      }
    }
    if (reachable.length === 0 || this.queued.has(id) || this.waiting.length >= MAX_WAITING) return;

    const key = Uint8Array.from(plaintext);
    this.queued.add(id);
    this.waiting.push(async () => {
      try {
        const result = await this.repair(record, key, reachable, deadlineAfter(this.timeoutMs));
        if (result.repaired.length > 0) {
          logger?.info({ id, regions: result.repaired }, 'repaired missing or damaged copies');
        }
        for (const { region, reason } of result.failed) {
          this.report(logger, 'warn', `failed\u0000${region}`, { id, region, reason }, NOT_REPAIRED);
        }
      } catch (err) {
        this.report(logger, 'warn', 'threw', { id, err }, REPAIR_THREW);
      } finally {
        wipe(key);
        this.queued.delete(id);
      }
    });
    this.pump();
  }

  /** Gives each region its copy, one conditional write per region, stopping if the item changes. */
  async repair(
    record: StoredKey,
    plaintext: Uint8Array,
    regions: readonly string[],
    signal?: AbortSignal,
  ): Promise<RepairResult> {
    const result: RepairResult = { repaired: [], failed: [], changed: false, record };
    // A copy is made as the item's others were: bound to the id, or context-free for the original RKMS's items.
    const context = record.boundToId ? encryptionContextFor(record.id) : undefined;
    for (const region of regions) {
      let ciphertext: Uint8Array;
      try {
        ciphertext = await this.kms.encryptIn(region, plaintext, context, signal);
      } catch (err) {
        if (!(err instanceof RegionCallError)) throw err;
        result.failed.push({ region, reason: err.reason });
        continue;
      }
      const updated = await this.store.putCopy(result.record, region, ciphertext, signal);
      if (updated === CHANGED) {
        result.changed = true;
        break;
      }
      result.record = updated;
      result.repaired.push(region);
      this.onRepaired?.(region);
    }
    return result;
  }

  /** Resolves when no background repair is running or waiting (tests, shutdown). */
  settled(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.concurrency) {
      const job = this.waiting.shift();
      if (!job) break;
      this.running++;
      void job().finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.waiting.length === 0) {
          for (const resolve of this.idle.splice(0)) resolve();
        }
      });
    }
  }

  /** One line per subject per interval, saying how many were held back since the last. */
  private report(
    logger: Log | undefined,
    level: 'warn' | 'error',
    subject: string,
    fields: Record<string, unknown>,
    message: string,
  ): void {
    const suppressed = this.logLimiter.take(subject);
    if (suppressed !== undefined) logger?.[level]({ ...fields, suppressed }, message);
  }
}
