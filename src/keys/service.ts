import type { Logger } from 'pino';
import { CiphertextRejectedError, KmsUnavailableError } from '../kms/errors.js';
import { wipe, type RegionalKms } from '../kms/pool.js';
import { MalformedItemError, VersionConflictError, type KeyRecord, type Store } from '../store/store.js';
import type { KeyCache } from './cache.js';
import {
  KeyContentionError,
  KeyIntegrityError,
  KeyNotFoundError,
  KeyPendingDeletionError,
} from './errors.js';
import { encryptionContextFor } from './id.js';
import { SingleFlight } from './single-flight.js';

export type Clock = () => number;

export interface KeyServiceOptions {
  store: Store;
  kms: RegionalKms;
  cache: KeyCache;
  dataKeyBytes: number;
  deletionWindowDays: number;
  clock?: Clock;
  logger?: Logger;
}

export interface KeyStatus {
  id: string;
  state: 'Enabled' | 'PendingDeletion' | 'Deleted';
  /** ISO-8601: when a pending key is destroyed, or was. */
  deletionDate?: string;
}

const DAY_MS = 86_400_000;
/** Rounds of read → act when other writers keep changing the item. */
const MAX_ROUNDS = 4;

/**
 * Get-or-create, delete and restore of data keys. Correctness across replicas rests
 * on the store's conditional writes; the cache and single-flight only save work.
 */
export class KeyService {
  private readonly store: Store;
  private readonly kms: RegionalKms;
  private readonly cache: KeyCache;
  private readonly dataKeyBytes: number;
  private readonly deletionWindowMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly loads = new SingleFlight<Uint8Array>();
  /** Bumped by every deletion change, so a load that raced with one does not cache its key. */
  private deletionEpoch = 0;

  constructor(options: KeyServiceOptions) {
    this.store = options.store;
    this.kms = options.kms;
    this.cache = options.cache;
    this.dataKeyBytes = options.dataKeyBytes;
    this.deletionWindowMs = options.deletionWindowDays * DAY_MS;
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger;
  }

  /** The data key for an id, created on first use. The caller owns the returned bytes. */
  async getKey(id: string): Promise<Uint8Array> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const shared = await this.loads.run(id, () => this.load(id));
    return Uint8Array.from(shared);
  }

  private async load(id: string): Promise<Uint8Array> {
    const epoch = this.deletionEpoch;
    const key = await this.readOrCreate(id);
    if (epoch === this.deletionEpoch) this.cache.set(id, key);
    return key;
  }

  private async readOrCreate(id: string): Promise<Uint8Array> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const record = await this.read(id);
      if (record) {
        if (record.state === 'PendingDeletion') {
          if ((await this.purgeIfDue(record)) !== 'not-due') continue;
          throw new KeyPendingDeletionError(id, record.deletionDate);
        }
        return this.decrypt(record);
      }
      const created = await this.create(id);
      if (created) return created;
      // Another writer won the race: the next round reads and returns its key.
    }
    throw new KeyContentionError(id);
  }

  private async read(id: string): Promise<KeyRecord | undefined> {
    try {
      return await this.store.get(id);
    } catch (err) {
      if (err instanceof MalformedItemError) throw new KeyIntegrityError(id, err.problem, { cause: err });
      throw err;
    }
  }

  private async decrypt(record: KeyRecord): Promise<Uint8Array> {
    // Items of the original RKMS carry no context; everything RKMS wrote is bound to its id.
    const context = record.boundToId ? encryptionContextFor(record.id) : undefined;
    try {
      const { plaintext } = await this.kms.decrypt(record.ciphertexts, context);
      return plaintext;
    } catch (err) {
      if (!(err instanceof CiphertextRejectedError)) throw err;
      this.logger?.error(
        {
          id: record.id,
          regions: err.failures.map((f) => f.region),
          reasons: err.failures.map((f) => f.reason),
        },
        'stored key refused by every KMS region: the item was copied from another id or altered',
      );
      throw new KeyIntegrityError(
        record.id,
        'no KMS region accepts its ciphertext for this id (copied from another id, or altered)',
        { cause: err },
      );
    }
  }

  /** A new key for the id, or undefined when another writer stored one first. */
  private async create(id: string): Promise<Uint8Array | undefined> {
    const { plaintext, ciphertexts, failures } = await this.kms.createDataKey(
      encryptionContextFor(id),
      this.dataKeyBytes,
    );
    if (failures.length > 0) {
      wipe(plaintext);
      throw new KmsUnavailableError('protect a new key in every region', failures);
    }
    const outcome = await this.store.create({
      id,
      ciphertexts,
      createdAt: new Date(this.clock()).toISOString(),
    });
    if (outcome === 'exists') {
      wipe(plaintext);
      return undefined;
    }
    this.logger?.info({ id, regions: Object.keys(ciphertexts) }, 'created a data key');
    return plaintext;
  }

  /**
   * Schedules the key's destruction after the deletion window. The window never ends
   * before the cache TTL, so no replica can still hand out a key that is gone.
   */
  async scheduleDeletion(id: string): Promise<KeyStatus> {
    return this.retryOnConflict(id, async () => {
      const record = await this.read(id);
      if (!record) throw new KeyNotFoundError(id);
      if (record.state === 'PendingDeletion') {
        const outcome = await this.purgeIfDue(record);
        if (outcome === 'purged') throw new KeyNotFoundError(id, 'the key was already deleted');
        if (outcome === 'changed') throw new VersionConflictError(id);
        return statusOf(record);
      }
      const now = this.clock();
      const deletionDate = new Date(now + Math.max(this.deletionWindowMs, this.cache.ttlMs)).toISOString();
      this.invalidate(id);
      const pending = await this.store.scheduleDeletion(id, record.version, deletionDate);
      this.logger?.info({ id, deletionDate }, 'key scheduled for deletion');
      if (Date.parse(deletionDate) <= now) {
        if (!(await this.store.purge(id, pending.version))) throw new VersionConflictError(id);
        this.logger?.info({ id }, 'key deleted');
        return { id, state: 'Deleted', deletionDate };
      }
      return statusOf(pending);
    });
  }

  /** Cancels a pending deletion: the same key is served again. */
  async restore(id: string): Promise<KeyStatus> {
    return this.retryOnConflict(id, async () => {
      const record = await this.read(id);
      if (!record) throw new KeyNotFoundError(id);
      if (record.state === 'Enabled') return statusOf(record);
      const outcome = await this.purgeIfDue(record);
      if (outcome === 'purged') {
        throw new KeyNotFoundError(
          id,
          `the key was deleted on ${record.deletionDate ?? 'its deletion date'}`,
        );
      }
      if (outcome === 'changed') throw new VersionConflictError(id);
      const restored = await this.store.cancelDeletion(id, record.version);
      this.invalidate(id);
      this.logger?.info({ id }, 'key deletion cancelled');
      return statusOf(restored);
    });
  }

  /** Destroys every key whose deletion date has passed; returns the purged ids. */
  async sweep(): Promise<string[]> {
    const purged: string[] = [];
    for await (const record of this.store.pendingDeletion()) {
      if ((await this.purgeIfDue(record)) === 'purged') purged.push(record.id);
    }
    return purged;
  }

  /**
   * Destroys a pending key whose deletion date has passed. `changed` means another
   * writer touched the item first (restored or purged it): read it again.
   */
  private async purgeIfDue(record: KeyRecord): Promise<'not-due' | 'purged' | 'changed'> {
    // A missing or unreadable date is never due: destroying a key needs a date that passed.
    const due = record.deletionDate !== undefined && Date.parse(record.deletionDate) <= this.clock();
    if (!due) return 'not-due';
    this.invalidate(record.id);
    if (!(await this.store.purge(record.id, record.version))) return 'changed';
    this.logger?.info({ id: record.id, deletionDate: record.deletionDate }, 'key deleted');
    return 'purged';
  }

  private invalidate(id: string): void {
    this.deletionEpoch++;
    this.loads.forget(id);
    this.cache.delete(id);
  }

  private async retryOnConflict<T>(id: string, attempt: () => Promise<T>): Promise<T> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof VersionConflictError)) throw err;
      }
    }
    throw new KeyContentionError(id);
  }
}

function statusOf(record: KeyRecord): KeyStatus {
  return record.state === 'PendingDeletion'
    ? {
        id: record.id,
        state: 'PendingDeletion',
        ...(record.deletionDate ? { deletionDate: record.deletionDate } : {}),
      }
    : { id: record.id, state: 'Enabled' };
}
