import { randomBytes } from 'node:crypto';
import { SYMMETRIC_KEY_BYTES } from './key-material.js';
import {
  DAY_MS,
  keyIdFor,
  newKmsKey,
  replicaOf,
  type KeyPlace,
  type KmsAlias,
  type KmsKey,
  type NewKmsKey,
  type NewReplica,
  type RotationType,
} from './kms-key.js';

class RegionKeys {
  readonly keys = new Map<string, KmsKey>();
  readonly aliases = new Map<string, KmsAlias>();
  nextSeq = 1;
}

/**
 * Every region's keys and aliases, in memory. A key past its deletion date is
 * invisible at once (every lookup checks the clock) and removed for good by
 * `maintain`, so reads never have to write.
 */
export class KeyStore {
  private readonly regions = new Map<string, RegionKeys>();

  constructor(
    readonly accountId: string,
    private readonly clock: () => number,
  ) {}

  /** Regions that hold keys or aliases, configured or not: a store outlives a change of `--regions`. */
  regionNames(): string[] {
    return [...this.regions.keys()];
  }

  liveKey(region: string, keyId: string): KmsKey | undefined {
    const key = this.regions.get(region)?.keys.get(keyId.toLowerCase());
    if (key) this.settleReplicaDeletion(key);
    return key && this.isLive(key) ? key : undefined;
  }

  /** Live keys of a region in creation order. */
  keys(region: string): KmsKey[] {
    const keys = [...(this.regions.get(region)?.keys.values() ?? [])];
    return keys.filter((key) => this.isLive(key)).sort((a, b) => a.seq - b.seq);
  }

  liveAlias(region: string, name: string): KmsAlias | undefined {
    const alias = this.regions.get(region)?.aliases.get(name);
    return alias && this.liveKey(region, alias.targetKeyId) ? alias : undefined;
  }

  /** Live aliases of a region sorted by name. */
  aliases(region: string): KmsAlias[] {
    const aliases = [...(this.regions.get(region)?.aliases.values() ?? [])];
    return aliases
      .filter((alias) => this.liveKey(region, alias.targetKeyId))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  createKey(region: string, spec: NewKmsKey = {}): KmsKey {
    const keyId = keyIdFor(spec);
    this.forgetExpired(region, keyId);
    return this.add(newKmsKey(keyId, this.nextPlace(region), spec));
  }

  /** A replica of a multi-Region primary key in another region (see `replicaOf`). */
  replicate(primary: KmsKey, region: string, spec: NewReplica = {}): KmsKey {
    this.forgetExpired(region, primary.keyId);
    return this.add(replicaOf(primary, this.nextPlace(region), spec));
  }

  /** Every live key of a multi-Region key's set, the primary first, then replicas by region. */
  multiRegionSet(key: KmsKey): KmsKey[] {
    if (!key.multiRegion) return [key];
    const set = this.regionNames()
      .map((region) => this.liveKey(region, key.keyId))
      .filter((member): member is KmsKey => member?.multiRegion !== undefined);
    return set.sort((a, b) =>
      a.multiRegion === b.multiRegion ? (a.region < b.region ? -1 : 1) : a.multiRegion === 'PRIMARY' ? -1 : 1,
    );
  }

  /** Makes `replica` the primary of its set and the current primary a replica. */
  updatePrimaryRegion(primary: KmsKey, replica: KmsKey): void {
    primary.multiRegion = 'REPLICA';
    replica.multiRegion = 'PRIMARY';
  }

  putAlias(region: string, name: string, targetKeyId: string): KmsAlias {
    const regionKeys = this.regionKeys(region);
    const now = this.clock();
    const existing = regionKeys.aliases.get(name);
    if (existing && this.liveKey(region, existing.targetKeyId)) {
      existing.targetKeyId = targetKeyId;
      existing.lastUpdatedDate = now;
      return existing;
    }
    const alias: KmsAlias = { name, targetKeyId, creationDate: now, lastUpdatedDate: now };
    regionKeys.aliases.set(name, alias);
    return alias;
  }

  deleteAlias(region: string, name: string): void {
    this.regions.get(region)?.aliases.delete(name);
  }

  /**
   * Schedules a deletion. A multi-Region primary key with replicas waits for
   * them, as in AWS: it is PendingReplicaDeletion until its last replica is
   * deleted, and its own waiting period starts then.
   */
  scheduleDeletion(key: KmsKey, pendingWindowInDays: number): void {
    key.pendingWindowInDays = pendingWindowInDays;
    if (key.multiRegion === 'PRIMARY' && this.replicaRecords(key).some((replica) => this.isLive(replica))) {
      key.state = 'PendingReplicaDeletion';
      key.deletionDate = undefined;
      return;
    }
    key.state = 'PendingDeletion';
    key.deletionDate = this.clock() + pendingWindowInDays * DAY_MS;
  }

  /** AWS leaves a key whose deletion was cancelled disabled. */
  cancelDeletion(key: KmsKey): void {
    key.state = 'Disabled';
    key.pendingWindowInDays = undefined;
    key.deletionDate = undefined;
  }

  /** Rotation settings and key material are shared by a multi-Region key's set, so every change reaches all of it. */
  enableRotation(key: KmsKey, periodInDays: number): void {
    const nextRotationDate = this.clock() + periodInDays * DAY_MS;
    for (const member of this.multiRegionSet(key)) {
      member.rotationEnabled = true;
      member.rotationPeriodInDays = periodInDays;
      member.nextRotationDate = nextRotationDate;
    }
  }

  disableRotation(key: KmsKey): void {
    for (const member of this.multiRegionSet(key)) {
      member.rotationEnabled = false;
      member.nextRotationDate = undefined;
    }
  }

  rotate(key: KmsKey, type: RotationType): void {
    const now = this.clock();
    const material = randomBytes(SYMMETRIC_KEY_BYTES);
    for (const member of this.multiRegionSet(key)) {
      member.materials.push(material);
      member.rotations.push({ date: now, type });
      if (member.rotationEnabled) member.nextRotationDate = now + member.rotationPeriodInDays * DAY_MS;
    }
  }

  /**
   * Removes keys whose waiting period is over (with their aliases) and rotates
   * keys whose automatic rotation is due. Returns whether anything changed.
   */
  maintain(): boolean {
    const now = this.clock();
    let changed = false;
    // Primaries first learn that their replicas are gone, while the replicas' deletion dates are still stored.
    for (const regionKeys of this.regions.values()) {
      for (const key of regionKeys.keys.values()) if (this.settleReplicaDeletion(key)) changed = true;
    }
    for (const [region, regionKeys] of this.regions) {
      for (const key of regionKeys.keys.values()) {
        if (!this.isLive(key)) {
          this.forgetExpired(region, key.keyId);
          changed = true;
        } else if (
          key.state === 'Enabled' &&
          key.multiRegion !== 'REPLICA' &&
          key.nextRotationDate !== undefined &&
          key.nextRotationDate <= now
        ) {
          this.rotate(key, 'AUTOMATIC');
          changed = true;
        }
      }
    }
    return changed;
  }

  /** Restores a key exactly as it was stored, for the persistence layer. */
  restoreKey(key: KmsKey): void {
    this.add(key);
  }

  restoreAlias(region: string, alias: KmsAlias): void {
    this.regionKeys(region).aliases.set(alias.name, alias);
  }

  /** Every key and alias of a region, expired or not, for the persistence layer. */
  contents(region: string): { keys: KmsKey[]; aliases: KmsAlias[]; nextSeq: number } {
    const regionKeys = this.regions.get(region) ?? new RegionKeys();
    return {
      keys: [...regionKeys.keys.values()],
      aliases: [...regionKeys.aliases.values()],
      nextSeq: regionKeys.nextSeq,
    };
  }

  setNextSeq(region: string, nextSeq: number): void {
    const regionKeys = this.regionKeys(region);
    regionKeys.nextSeq = Math.max(regionKeys.nextSeq, nextSeq);
  }

  /**
   * A primary key waiting for its replicas starts its own waiting period once
   * the last of them is deleted. The start is the replica's deletion date,
   * not the moment this runs, so a lookup, the periodic maintenance and a
   * restart all reach the same state.
   */
  private settleReplicaDeletion(key: KmsKey): boolean {
    if (key.state !== 'PendingReplicaDeletion') return false;
    const replicas = this.replicaRecords(key);
    if (replicas.some((replica) => this.isLive(replica))) return false;
    const lastDeleted = Math.max(key.creationDate, ...replicas.map((replica) => replica.deletionDate ?? 0));
    key.state = 'PendingDeletion';
    key.deletionDate = lastDeleted + (key.pendingWindowInDays ?? 30) * DAY_MS;
    return true;
  }

  /** The replicas of a primary key that are still stored, deleted or not. */
  private replicaRecords(primary: KmsKey): KmsKey[] {
    return [...this.regions.values()]
      .map((regionKeys) => regionKeys.keys.get(primary.keyId))
      .filter((key): key is KmsKey => key !== undefined && key !== primary && key.multiRegion === 'REPLICA');
  }

  private isLive(key: KmsKey): boolean {
    return !(
      key.state === 'PendingDeletion' &&
      key.deletionDate !== undefined &&
      key.deletionDate <= this.clock()
    );
  }

  private forgetExpired(region: string, keyId: string): void {
    const regionKeys = this.regions.get(region);
    const key = regionKeys?.keys.get(keyId);
    if (!regionKeys || !key || this.isLive(key)) return;
    for (const other of this.regions.values()) {
      const primary = other.keys.get(keyId);
      if (primary) this.settleReplicaDeletion(primary);
    }
    regionKeys.keys.delete(keyId);
    for (const [name, alias] of regionKeys.aliases) {
      if (alias.targetKeyId === keyId) regionKeys.aliases.delete(name);
    }
  }

  /** Where the region's next key goes: after its last one in creation order, made now. */
  private nextPlace(region: string): KeyPlace {
    return { region, accountId: this.accountId, seq: this.regionKeys(region).nextSeq, now: this.clock() };
  }

  private add(key: KmsKey): KmsKey {
    const regionKeys = this.regionKeys(key.region);
    regionKeys.keys.set(key.keyId, key);
    regionKeys.nextSeq = Math.max(regionKeys.nextSeq, key.seq + 1);
    return key;
  }

  private regionKeys(region: string): RegionKeys {
    let regionKeys = this.regions.get(region);
    if (!regionKeys) {
      regionKeys = new RegionKeys();
      this.regions.set(region, regionKeys);
    }
    return regionKeys;
  }
}
