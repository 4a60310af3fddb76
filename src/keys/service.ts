import type { Logger } from 'pino';
import { CiphertextRejectedError } from '../kms/errors.js';
import { wipe } from '../kms/key-material.js';
import type { Kms } from '../kms/kms.js';
import type { Clock } from '../resilience/clock.js';
import { LogLimiter } from '../resilience/log-limiter.js';
import type { StoredKey, Store, Tombstone } from '../store/store.js';
import type { KeyCache } from '../shared/key-cache.js';
import { startCall, type Call, type CallOptions } from './call.js';
import { KeyDeletion, type KeyStatus } from './deletion.js';
import { KeyDeletedError, KeyExistsError, KeyIntegrityError, KeyPendingDeletionError } from './errors.js';
import { encryptionContextFor } from './id.js';
import type { Log } from './log.js';
import { readRecord } from './read-record.js';
import type { Repairer } from './repair.js';
import { AGAIN, inRounds } from './rounds.js';
import { SingleFlight } from '../shared/single-flight.js';

export type { CallOptions } from './call.js';
export type { KeyStatus } from './deletion.js';

export interface KeyServiceOptions {
  store: Store;
  kms: Kms;
  cache: KeyCache;
  repairer: Repairer;
  dataKeyBytes: number;
  deletionWindowDays: number;
  /** One deadline for each request's store and KMS calls together. */
  requestTimeoutMs: number;
  clock: Clock;
  logger?: Logger | undefined;
  /** Told what happened, for the metrics. */
  events?: KeyServiceEvents;
}

/** What the metrics count. */
export interface KeyServiceEvents {
  cacheHit?(): void;
  cacheMiss?(): void;
  /** A request joined a load another request for the same id had started. */
  merged?(): void;
  created?(): void;
}

/** A data key handed to a caller, and where it came from (for the audit trail and the metrics). */
export interface ServedKey {
  key: Uint8Array;
  /** `cache`, or the KMS region that decrypted (or generated) it. */
  source: string;
  /** Whether this call created the key. */
  created: boolean;
}

/**
 * What a caller's beforeCreate threw: a value, not an exception, so that a load shared
 * with other callers ends normally and only the caller it belongs to is refused.
 */
class Refusal {
  constructor(readonly reason: unknown) {}
}

/** A damaged copy is logged at error level at most this often per id and region. */
const DAMAGE_LOG_INTERVAL_MS = 60_000;

/**
 * Get-or-create, create, delete and restore of data keys. Correctness across replicas
 * rests on the store's conditional writes; the cache and single-flight only save work.
 */
export class KeyService {
  private readonly store: Store;
  private readonly kms: Kms;
  private readonly cache: KeyCache;
  private readonly repairer: Repairer;
  private readonly dataKeyBytes: number;
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly events: KeyServiceEvents;
  private readonly loads = new SingleFlight<ServedKey | Refusal>();
  private readonly damageLog: LogLimiter;
  private readonly deletion: KeyDeletion;

  constructor(options: KeyServiceOptions) {
    this.store = options.store;
    this.kms = options.kms;
    this.cache = options.cache;
    this.repairer = options.repairer;
    this.dataKeyBytes = options.dataKeyBytes;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.clock = options.clock;
    this.logger = options.logger;
    this.events = options.events ?? {};
    this.damageLog = new LogLimiter(DAMAGE_LOG_INTERVAL_MS, options.clock);
    this.deletion = new KeyDeletion({
      store: options.store,
      deletionWindowDays: options.deletionWindowDays,
      requestTimeoutMs: options.requestTimeoutMs,
      clock: options.clock,
      logger: options.logger,
      invalidate: (id) => {
        this.invalidate(id);
      },
    });
  }

  /** The data key for an id, created on first use. The caller owns the returned bytes. */
  getKey(id: string, options: CallOptions = {}): Promise<ServedKey> {
    // The common case, answered without the rounds' machinery.
    const cached = this.cachedKey(id);
    if (cached) return Promise.resolve(cached);
    return inRounds(id, async () => {
      const again = this.cachedKey(id);
      if (again) return again;
      this.events.cacheMiss?.();
      // Callers that join a load another request started do not create the key themselves.
      const joined = this.loads.has(id);
      if (joined) this.events.merged?.();
      const shared = await this.loads.run(id, (current) => this.load(id, options, current));
      if (shared instanceof Refusal) {
        // The caller that led the load may not create the key; a joiner asks again with its own rights.
        if (joined) return AGAIN;
        throw shared.reason;
      }
      return { key: Uint8Array.from(shared.key), source: shared.source, created: shared.created && !joined };
    });
  }

  /**
   * The id's key in base64 if this replica has it cached, at once (no store read, no KMS
   * call): what a read answers most often, with no copy of the bytes to make and wipe.
   */
  cachedKeyBase64(id: string): string | undefined {
    const key = this.cache.encoded(id, 'base64');
    if (key !== undefined) this.events.cacheHit?.();
    return key;
  }

  /** The id's key if this replica has it cached, at once (no store read, no KMS call); the caller owns the bytes. */
  private cachedKey(id: string): ServedKey | undefined {
    const key = this.cache.get(id);
    if (!key) return undefined;
    this.events.cacheHit?.();
    return { key, source: 'cache', created: false };
  }

  /**
   * Creates a key for an id that has none, or whose key was destroyed (the only way a
   * destroyed id gets a new key). KeyExistsError otherwise.
   */
  async createKey(id: string, options: CallOptions = {}): Promise<ServedKey> {
    const call = this.call(options);
    return inRounds(id, async () => {
      const record = await readRecord(this.store, id, call);
      if (record?.state === 'PendingDeletion' && this.deletion.isDue(record)) {
        await this.deletion.destroy(record, call);
        return AGAIN;
      }
      if (record && record.state !== 'Deleted') throw new KeyExistsError(id);
      const refusal = await this.mayCreate(call);
      if (refusal) throw refusal.reason;
      const created = await this.create(id, record, call);
      if (!created) throw new KeyExistsError(id);
      return created;
    });
  }

  /** Schedules the key's destruction after the deletion window. Idempotent while pending. */
  scheduleDeletion(id: string, options: CallOptions = {}): Promise<KeyStatus> {
    return this.deletion.schedule(id, this.call(options));
  }

  /** Cancels a pending deletion: the same key is served again. */
  restore(id: string, options: CallOptions = {}): Promise<KeyStatus> {
    return this.deletion.restore(id, this.call(options));
  }

  /** Destroys every key whose deletion date has passed; returns the ids this sweep destroyed. */
  sweep(): Promise<string[]> {
    return this.deletion.sweep();
  }

  /** The load every caller asking for the id meanwhile shares; `current()`: no deletion overtook it. */
  private async load(id: string, options: CallOptions, current: () => boolean): Promise<ServedKey | Refusal> {
    const served = await this.readOrCreate(id, this.call(options));
    if (served instanceof Refusal) return served;
    // A deletion that happened meanwhile invalidated this load: its key must not be cached.
    if (current()) this.cache.set(id, served.key);
    // Every caller sharing this load copies the key as its await resumes, before any timer runs.
    setImmediate(() => {
      wipe(served.key);
    });
    return served;
  }

  private readOrCreate(id: string, call: Call): Promise<ServedKey | Refusal> {
    return inRounds(id, async () => {
      const record = await readRecord(this.store, id, call);
      if (!record) {
        const refusal = await this.mayCreate(call);
        if (refusal) return refusal;
        return (await this.create(id, undefined, call)) ?? AGAIN;
      }
      switch (record.state) {
        case 'Deleted':
          throw new KeyDeletedError(id, record.deletionDate);
        case 'PendingDeletion':
          if (!this.deletion.isDue(record)) throw new KeyPendingDeletionError(id, record.deletionDate);
          await this.deletion.destroy(record, call);
          return AGAIN;
        case 'Enabled':
          return this.open(record, call);
      }
    });
  }

  /** The caller's beforeCreate: a Refusal of this caller when it throws. */
  private async mayCreate({ beforeCreate }: Call): Promise<Refusal | undefined> {
    try {
      await beforeCreate?.();
      return undefined;
    } catch (err) {
      return new Refusal(err);
    }
  }

  /** Decrypts one good copy; damaged and missing copies are reported and repaired after the answer. */
  private async open(record: StoredKey, call: Call): Promise<ServedKey> {
    const { id } = record;
    if (Object.keys(record.copies).length === 0) {
      call.log?.error(
        { id, malformed: record.malformed },
        'stored key has no well-formed copy: needs an operator',
      );
      throw new KeyIntegrityError(
        id,
        `no region holds a well-formed copy (malformed: ${record.malformed.join(', ')})`,
      );
    }
    // Items of the original RKMS carry no context; everything RKMS wrote is bound to its id.
    const context = record.boundToId ? encryptionContextFor(id) : undefined;
    let opened;
    try {
      opened = await this.kms.open(record.copies, context, call.signal);
    } catch (err) {
      if (!(err instanceof CiphertextRejectedError)) throw err;
      call.log?.error(
        { id, refused: err.failures.map((f) => ({ region: f.region, reason: f.reason })) },
        'every KMS region refused its copy of the key: the item was copied from another id or altered',
      );
      throw new KeyIntegrityError(
        id,
        'no KMS region accepts its copy for this id (copied from another id, or altered)',
        { cause: err },
      );
    }
    const damaged = [...record.malformed, ...opened.refused.map((failure) => failure.region)];
    for (const region of damaged)
      this.reportDamaged(id, region, opened.refused.find((f) => f.region === region)?.reason, call.log);
    this.repairer.offer(record, opened.plaintext, damaged, call.log);
    return { key: opened.plaintext, source: opened.region, created: false };
  }

  /** A new key for the id, or undefined when another writer stored one first. */
  private async create(
    id: string,
    tombstone: Tombstone | undefined,
    call: Call,
  ): Promise<ServedKey | undefined> {
    const { plaintext, copies, missing, generatedIn } = await this.kms.newDataKey(
      encryptionContextFor(id),
      this.dataKeyBytes,
      call.signal,
    );
    let outcome: 'created' | 'exists';
    try {
      outcome = await this.store.create(
        { id, copies, createdAt: new Date(this.clock()).toISOString() },
        { ...(tombstone ? { replacing: tombstone } : {}), signal: call.signal },
      );
    } catch (err) {
      wipe(plaintext);
      throw err;
    }
    if (outcome === 'exists') {
      wipe(plaintext);
      return undefined;
    }
    this.events.created?.();
    call.log?.info({ id, regions: Object.keys(copies), missing }, 'created a data key');
    const record: StoredKey = {
      id,
      state: 'Enabled',
      version: (tombstone?.version ?? 0) + 1,
      copies,
      malformed: [],
      boundToId: true,
    };
    this.repairer.offer(record, plaintext, [], call.log);
    return { key: plaintext, source: generatedIn, created: true };
  }

  private call(options: CallOptions): Call {
    return startCall(options, this.requestTimeoutMs, this.logger);
  }

  /** After a state change is written: no cache or running load may serve the old state. */
  private invalidate(id: string): void {
    this.loads.forget(id);
    this.cache.delete(id);
  }

  private reportDamaged(id: string, region: string, reason: string | undefined, log: Log | undefined): void {
    const suppressed = this.damageLog.take(`${region}\u0000${id}`);
    if (suppressed === undefined) return;
    log?.error(
      { id, region, reason: reason ?? 'not a base64 ciphertext', suppressed },
      'damaged copy of a key: served from another region; repairing it',
    );
  }
}
