import type { Logger } from 'pino';
import type { Clock } from '../resilience/clock.js';
import { CHANGED, MalformedItemError, type Store, type StoredKey } from '../store/store.js';
import { startCall, type Call } from './call.js';
import { KeyDeletedError, KeyNotFoundError } from './errors.js';
import { readRecord } from './read-record.js';
import { AGAIN, inRounds } from './rounds.js';

export interface KeyStatus {
  id: string;
  state: StoredKey['state'];
  /** ISO-8601: when a pending key is destroyed, or was. */
  deletionDate?: string;
}

export interface KeyDeletionOptions {
  store: Store;
  deletionWindowDays: number;
  /** The deadline of each destruction the sweep makes (no request sets one for it). */
  requestTimeoutMs: number;
  clock: Clock;
  logger?: Logger | undefined;
  /** Told after a state change is written: no cache or running load may serve the old state. */
  invalidate: (id: string) => void;
}

const DAY_MS = 86_400_000;

/**
 * The end of a key's life: scheduling its deletion, cancelling it, destroying it once its
 * date has passed (leaving a tombstone), and the sweep that finds the keys due.
 */
export class KeyDeletion {
  private readonly store: Store;
  private readonly deletionWindowMs: number;
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly invalidate: (id: string) => void;

  constructor(options: KeyDeletionOptions) {
    this.store = options.store;
    this.deletionWindowMs = options.deletionWindowDays * DAY_MS;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.clock = options.clock;
    this.logger = options.logger;
    this.invalidate = options.invalidate;
  }

  /** Schedules the key's destruction after the deletion window. Idempotent while pending. */
  schedule(id: string, call: Call): Promise<KeyStatus> {
    return inRounds(id, async () => {
      const record = await this.existing(id, call);
      if (record.state === 'PendingDeletion') {
        if (!this.isDue(record)) return statusOf(record);
        await this.destroy(record, call);
        return AGAIN;
      }
      const deletionDate = new Date(this.clock() + this.deletionWindowMs).toISOString();
      const pending = await this.store.scheduleDeletion(record, deletionDate, call.signal);
      if (pending === CHANGED) return AGAIN;
      this.invalidate(id);
      call.log?.info({ id, deletionDate }, 'key scheduled for deletion');
      return statusOf(pending);
    });
  }

  /** Cancels a pending deletion: the same key is served again. */
  restore(id: string, call: Call): Promise<KeyStatus> {
    return inRounds(id, async () => {
      const record = await this.existing(id, call);
      if (record.state === 'Enabled') return statusOf(record);
      if (this.isDue(record)) {
        await this.destroy(record, call);
        return AGAIN;
      }
      const restored = await this.store.cancelDeletion(record, call.signal);
      if (restored === CHANGED) return AGAIN;
      this.invalidate(id);
      call.log?.info({ id }, 'key deletion cancelled');
      return statusOf(restored);
    });
  }

  /** Destroys every key whose deletion date has passed; returns the ids this sweep destroyed. */
  async sweep(): Promise<string[]> {
    const destroyed: string[] = [];
    for await (const record of this.store.scan({ state: 'PendingDeletion' })) {
      if (record instanceof MalformedItemError || record.state !== 'PendingDeletion') continue;
      const call = startCall({}, this.requestTimeoutMs, this.logger);
      if (this.isDue(record) && (await this.destroy(record, call))) destroyed.push(record.id);
    }
    return destroyed;
  }

  isDue(record: StoredKey): boolean {
    // A missing or unreadable date is never due: destroying a key needs a date that passed.
    return record.deletionDate !== undefined && Date.parse(record.deletionDate) <= this.clock();
  }

  /**
   * Destroys a pending key past its date, unless the item changed since it was read (then
   * the caller reads it again). Whether this call destroyed it.
   */
  async destroy(record: StoredKey, call: Call): Promise<boolean> {
    const tombstone = await this.store.destroy(record, call.signal);
    if (tombstone === CHANGED) return false;
    this.invalidate(record.id);
    call.log?.info({ id: record.id, deletionDate: record.deletionDate }, 'key destroyed');
    return true;
  }

  /** An id's key that is not destroyed, for delete and restore. */
  private async existing(id: string, call: Call): Promise<StoredKey> {
    const record = await readRecord(this.store, id, call);
    if (!record) throw new KeyNotFoundError(id);
    if (record.state === 'Deleted') throw new KeyDeletedError(id, record.deletionDate);
    return record;
  }
}

function statusOf(record: StoredKey): KeyStatus {
  return {
    id: record.id,
    state: record.state,
    ...(record.state === 'PendingDeletion' && record.deletionDate
      ? { deletionDate: record.deletionDate }
      : {}),
  };
}
