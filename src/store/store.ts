import type { CircuitState } from '../resilience/circuit-breaker.js';

/**
 * Where RKMS keeps each id's encrypted data key. The service depends on this
 * interface only; `dynamodb.ts` implements it for DynamoDB (and dynalite).
 */

/** The life of a key: served; scheduled for destruction; destroyed (a tombstone stays). */
export type KeyState = 'Enabled' | 'PendingDeletion' | 'Deleted';

interface RecordBase {
  id: string;
  /** 0 for items the original RKMS wrote; every change increments it, across re-creation too. */
  version: number;
  createdAt?: string;
  /** ISO-8601: when a pending key is destroyed, or was. */
  deletionDate?: string;
}

/** An id's data key, as the copies each KMS region made of it. */
export interface StoredKey extends RecordBase {
  state: 'Enabled' | 'PendingDeletion';
  /** Region → KMS ciphertext of the same data key. Stored as the `keys` map of base64 strings. */
  copies: Record<string, Uint8Array>;
  /** Regions whose `keys` entry is not a well-formed ciphertext: damaged copies, to be replaced. */
  malformed: string[];
  /**
   * True when the ciphertexts are bound to the encryption context `{"rkms:id": id}`.
   * False for items written by the original RKMS, which used no context.
   */
  boundToId: boolean;
}

/** What is left of a destroyed key, so that its id is never silently given a new one. */
export interface Tombstone extends RecordBase {
  state: 'Deleted';
}

export type KeyRecord = StoredKey | Tombstone;

export interface NewKey {
  id: string;
  copies: Record<string, Uint8Array>;
  createdAt: string;
}

/** A conditional write found the item changed since it was read: read it again. */
export const CHANGED = 'changed';
export type Changed = typeof CHANGED;

export interface Store {
  /** The item for an id, read with strong consistency; `undefined` only when it truly does not exist. */
  get(id: string, signal?: AbortSignal): Promise<KeyRecord | undefined>;
  /**
   * Writes a new item only if the id has none (or, with `replacing`, still has that
   * tombstone): the first writer wins. `exists` when it lost.
   */
  create(
    key: NewKey,
    options?: { replacing?: Tombstone; signal?: AbortSignal },
  ): Promise<'created' | 'exists'>;
  /** Marks the key pending deletion, if the item is unchanged since `key` was read. */
  scheduleDeletion(key: StoredKey, deletionDate: string, signal?: AbortSignal): Promise<StoredKey | Changed>;
  /** Marks the key enabled again, if the item is unchanged. */
  cancelDeletion(key: StoredKey, signal?: AbortSignal): Promise<StoredKey | Changed>;
  /** Destroys a pending key's copies, leaving a tombstone, if the item is unchanged. */
  destroy(key: StoredKey, signal?: AbortSignal): Promise<Tombstone | Changed>;
  /**
   * Adds or replaces one region's copy (repair), if the item is unchanged: never touches
   * another region's copy, the state, or anything else.
   */
  putCopy(
    key: StoredKey,
    region: string,
    ciphertext: Uint8Array,
    signal?: AbortSignal,
  ): Promise<StoredKey | Changed>;
  /** Every item, for `rkms repair` and the sweep; items RKMS cannot read come as MalformedItemError. */
  scan(filter?: { state?: KeyState }): AsyncIterable<KeyRecord | MalformedItemError>;
  /** The store's own estimate of how many items it holds (for progress), or undefined when unknown. */
  approximateCount(): Promise<number | undefined>;
  /** A cheap call that fails when the store cannot be reached. */
  ping(signal?: AbortSignal): Promise<void>;
  /** The store's circuit and its last failure, from real calls. */
  readonly health: StoreHealth;
  close(): void;
}

export interface StoreHealth {
  circuit: CircuitState;
  lastFailure?: { at: string; reason: string };
}

/** The store could not answer. Never to be read as "not found". */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(
    /** Safe to show to callers: names the store and what happened, never an endpoint. */
    readonly reason: string,
    /** For the log only. */
    readonly detail?: string,
    options?: ErrorOptions,
  ) {
    super(`the key store is unavailable: ${reason}`, options);
  }
}

/** An item exists but is not in a shape RKMS can read. */
export class MalformedItemError extends Error {
  override name = 'MalformedItemError';
  constructor(
    readonly id: string,
    readonly problem: string,
  ) {
    super(`the stored item for id ${JSON.stringify(id)} is malformed: ${problem}`);
  }
}
