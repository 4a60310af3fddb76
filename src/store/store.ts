/**
 * Where RKMS keeps each id's encrypted data key. The service depends on this
 * interface only; `dynamodb.ts` implements it for DynamoDB (and dynalite).
 */

export type KeyState = 'Enabled' | 'PendingDeletion';

export interface KeyRecord {
  id: string;
  /** Region → KMS ciphertext of the same data key. Stored as the `keys` map of base64 strings. */
  ciphertexts: Record<string, Uint8Array>;
  /**
   * True when the ciphertexts are bound to the encryption context `{"rkms:id": id}`.
   * False for items written by the original RKMS, which used no context.
   */
  boundToId: boolean;
  /** 0 for items the original RKMS wrote; every conditional update increments it. */
  version: number;
  state: KeyState;
  createdAt?: string;
  /** ISO-8601; set while the key is pending deletion. */
  deletionDate?: string;
}

export type NewKeyRecord = Pick<KeyRecord, 'id' | 'ciphertexts'> & { createdAt: string };

export interface Store {
  /** The item for an id, read with strong consistency; `undefined` only when it truly does not exist. */
  get(id: string): Promise<KeyRecord | undefined>;
  /** Writes a new item only if none exists for the id: the first writer wins. */
  create(record: NewKeyRecord): Promise<'created' | 'exists'>;
  /** Marks the key pending deletion, if the item is still at `expectedVersion`. */
  scheduleDeletion(id: string, expectedVersion: number, deletionDate: string): Promise<KeyRecord>;
  /** Marks the key enabled again, if the item is still at `expectedVersion`. */
  cancelDeletion(id: string, expectedVersion: number): Promise<KeyRecord>;
  /** Deletes a pending-deletion item still at `expectedVersion`; false when it changed meanwhile. */
  purge(id: string, expectedVersion: number): Promise<boolean>;
  /** Every item that is pending deletion, for the sweep. */
  pendingDeletion(): AsyncIterable<KeyRecord>;
  /** A cheap call that fails when the store cannot be reached. */
  ping(): Promise<void>;
  close(): void;
}

/** The store could not answer. Never to be read as "not found". */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(
    readonly store: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`the key store (${store}) is unavailable: ${reason}`, options);
  }
}

/** Another writer changed the item since it was read. */
export class VersionConflictError extends Error {
  override name = 'VersionConflictError';
  constructor(readonly id: string) {
    super(`the item for id ${JSON.stringify(id)} changed while it was being updated`);
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
