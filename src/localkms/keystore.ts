import { randomBytes, randomUUID } from 'node:crypto';
import { SYMMETRIC_KEY_BYTES } from './key-material.js';
import type { LocalKeySpec, LocalKeyUsage } from './key-specs.js';
import { keyArn } from './names.js';

/**
 * The key states of this emulator. PendingReplicaDeletion is a multi-Region
 * primary key scheduled for deletion while replicas of it exist; AWS's
 * transient Creating and Updating states are never observed here, since
 * replication and primary changes complete within the call.
 */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingReplicaDeletion';
export type RotationType = 'AUTOMATIC' | 'ON_DEMAND';
export type MultiRegionRole = 'PRIMARY' | 'REPLICA';

export const DEFAULT_ROTATION_PERIOD_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KmsKey {
  readonly keyId: string;
  readonly region: string;
  readonly arn: string;
  readonly creationDate: number;
  /** Creation order within the region: ListKeys pages by it, so a deletion never shifts a page. */
  readonly seq: number;
  readonly keySpec: LocalKeySpec;
  readonly keyUsage: LocalKeyUsage;
  /** Set on multi-Region keys; the other keys of the set live under the same key id in other regions. */
  multiRegion: MultiRegionRole | undefined;
  description: string;
  state: KeyState;
  deletionDate: number | undefined;
  pendingWindowInDays: number | undefined;
  rotationEnabled: boolean;
  rotationPeriodInDays: number;
  nextRotationDate: number | undefined;
  /**
   * Index = key-material version, written into every symmetric ciphertext; the
   * last one encrypts. HMAC keys hold their secret and asymmetric keys their
   * DER PKCS #8 private key, one version each.
   */
  readonly materials: Buffer[];
  readonly rotations: { date: number; type: RotationType }[];
  readonly tags: Map<string, string>;
}

export interface KmsAlias {
  readonly name: string;
  targetKeyId: string;
  readonly creationDate: number;
  lastUpdatedDate: number;
}

export interface NewKey {
  keyId?: string;
  description?: string;
  tags?: Iterable<[string, string]>;
  /** SYMMETRIC_DEFAULT and ENCRYPT_DECRYPT when omitted. */
  keySpec?: LocalKeySpec;
  keyUsage?: LocalKeyUsage;
  /** Required for every spec but SYMMETRIC_DEFAULT, whose material is random when omitted. */
  material?: Buffer;
  enabled?: boolean;
  rotationEnabled?: boolean;
  /** Makes a multi-Region primary key; its id is then `mrk-` and 32 hex digits. */
  multiRegion?: boolean;
}

/** The part of a new replica that is not shared with its primary (AWS's ReplicateKey parameters). */
export interface NewReplica {
  description?: string;
  tags?: Iterable<[string, string]>;
}

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

  now(): number {
    return this.clock();
  }

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

  createKey(region: string, spec: NewKey = {}): KmsKey {
    const regionKeys = this.regionKeys(region);
    const keyId = (spec.keyId ?? newKeyId(spec.multiRegion ?? false)).toLowerCase();
    this.forgetExpired(region, keyId);
    const now = this.clock();
    const rotationEnabled = spec.rotationEnabled ?? false;
    const keySpec = spec.keySpec ?? 'SYMMETRIC_DEFAULT';
    if (keySpec !== 'SYMMETRIC_DEFAULT' && !spec.material)
      throw new Error(`a ${keySpec} key needs its material`);
    const key: KmsKey = {
      keyId,
      region,
      arn: keyArn(region, this.accountId, keyId),
      creationDate: now,
      seq: regionKeys.nextSeq++,
      keySpec,
      keyUsage: spec.keyUsage ?? 'ENCRYPT_DECRYPT',
      multiRegion: spec.multiRegion ? 'PRIMARY' : undefined,
      description: spec.description ?? '',
      state: spec.enabled === false ? 'Disabled' : 'Enabled',
      deletionDate: undefined,
      pendingWindowInDays: undefined,
      rotationEnabled,
      rotationPeriodInDays: DEFAULT_ROTATION_PERIOD_DAYS,
      nextRotationDate: rotationEnabled ? now + DEFAULT_ROTATION_PERIOD_DAYS * DAY_MS : undefined,
      materials: [spec.material ?? randomBytes(SYMMETRIC_KEY_BYTES)],
      rotations: [],
      tags: new Map(spec.tags ?? []),
    };
    regionKeys.keys.set(keyId, key);
    return key;
  }

  /**
   * A replica of a multi-Region primary key in another region: the same key
   * id, spec, usage, key material and rotation settings; its own description,
   * tags, aliases and state.
   */
  replicate(primary: KmsKey, region: string, spec: NewReplica = {}): KmsKey {
    const regionKeys = this.regionKeys(region);
    this.forgetExpired(region, primary.keyId);
    const replica: KmsKey = {
      ...sharedProperties(primary),
      keyId: primary.keyId,
      region,
      arn: keyArn(region, this.accountId, primary.keyId),
      creationDate: this.clock(),
      seq: regionKeys.nextSeq++,
      keySpec: primary.keySpec,
      keyUsage: primary.keyUsage,
      multiRegion: 'REPLICA',
      description: spec.description ?? '',
      state: 'Enabled',
      deletionDate: undefined,
      pendingWindowInDays: undefined,
      tags: new Map(spec.tags ?? []),
    };
    regionKeys.keys.set(primary.keyId, replica);
    return replica;
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
    const regionKeys = this.regionKeys(key.region);
    regionKeys.keys.set(key.keyId, key);
    regionKeys.nextSeq = Math.max(regionKeys.nextSeq, key.seq + 1);
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

  private regionKeys(region: string): RegionKeys {
    let regionKeys = this.regions.get(region);
    if (!regionKeys) {
      regionKeys = new RegionKeys();
      this.regions.set(region, regionKeys);
    }
    return regionKeys;
  }
}

/** AWS's key ids: a UUID, or `mrk-` and 32 hex digits for a multi-Region key. */
function newKeyId(multiRegion: boolean): string {
  return multiRegion ? `mrk-${randomUUID().replaceAll('-', '')}` : randomUUID();
}

function sharedProperties(
  key: KmsKey,
): Pick<KmsKey, 'rotationEnabled' | 'rotationPeriodInDays' | 'nextRotationDate' | 'materials' | 'rotations'> {
  return {
    rotationEnabled: key.rotationEnabled,
    rotationPeriodInDays: key.rotationPeriodInDays,
    nextRotationDate: key.nextRotationDate,
    materials: [...key.materials],
    rotations: key.rotations.map((rotation) => ({ ...rotation })),
  };
}
