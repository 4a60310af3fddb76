import { randomBytes, randomUUID } from 'node:crypto';
import { keyArn } from './names.js';

/** The key states a symmetric key of this emulator can be in (AWS has more, for imported and multi-region keys). */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';
export type RotationType = 'AUTOMATIC' | 'ON_DEMAND';

export const KEY_MATERIAL_BYTES = 32;
export const DEFAULT_ROTATION_PERIOD_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KmsKey {
  readonly keyId: string;
  readonly region: string;
  readonly arn: string;
  readonly creationDate: number;
  /** Creation order within the region: ListKeys pages by it, so a deletion never shifts a page. */
  readonly seq: number;
  description: string;
  state: KeyState;
  deletionDate: number | undefined;
  pendingWindowInDays: number | undefined;
  rotationEnabled: boolean;
  rotationPeriodInDays: number;
  nextRotationDate: number | undefined;
  /** Index = key-material version, written into every ciphertext; the last one encrypts. */
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
  material?: Buffer;
  enabled?: boolean;
  rotationEnabled?: boolean;
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
    const keyId = (spec.keyId ?? randomUUID()).toLowerCase();
    this.forgetExpired(region, keyId);
    const now = this.clock();
    const rotationEnabled = spec.rotationEnabled ?? false;
    const key: KmsKey = {
      keyId,
      region,
      arn: keyArn(region, this.accountId, keyId),
      creationDate: now,
      seq: regionKeys.nextSeq++,
      description: spec.description ?? '',
      state: spec.enabled === false ? 'Disabled' : 'Enabled',
      deletionDate: undefined,
      pendingWindowInDays: undefined,
      rotationEnabled,
      rotationPeriodInDays: DEFAULT_ROTATION_PERIOD_DAYS,
      nextRotationDate: rotationEnabled ? now + DEFAULT_ROTATION_PERIOD_DAYS * DAY_MS : undefined,
      materials: [spec.material ?? randomBytes(KEY_MATERIAL_BYTES)],
      rotations: [],
      tags: new Map(spec.tags ?? []),
    };
    regionKeys.keys.set(keyId, key);
    return key;
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

  scheduleDeletion(key: KmsKey, pendingWindowInDays: number): void {
    key.state = 'PendingDeletion';
    key.pendingWindowInDays = pendingWindowInDays;
    key.deletionDate = this.clock() + pendingWindowInDays * DAY_MS;
  }

  /** AWS leaves a key whose deletion was cancelled disabled. */
  cancelDeletion(key: KmsKey): void {
    key.state = 'Disabled';
    key.pendingWindowInDays = undefined;
    key.deletionDate = undefined;
  }

  enableRotation(key: KmsKey, periodInDays: number): void {
    key.rotationEnabled = true;
    key.rotationPeriodInDays = periodInDays;
    key.nextRotationDate = this.clock() + periodInDays * DAY_MS;
  }

  disableRotation(key: KmsKey): void {
    key.rotationEnabled = false;
    key.nextRotationDate = undefined;
  }

  rotate(key: KmsKey, type: RotationType): void {
    const now = this.clock();
    key.materials.push(randomBytes(KEY_MATERIAL_BYTES));
    key.rotations.push({ date: now, type });
    if (key.rotationEnabled) key.nextRotationDate = now + key.rotationPeriodInDays * DAY_MS;
  }

  /**
   * Removes keys whose waiting period is over (with their aliases) and rotates
   * keys whose automatic rotation is due. Returns whether anything changed.
   */
  maintain(): boolean {
    const now = this.clock();
    let changed = false;
    for (const [region, regionKeys] of this.regions) {
      for (const key of regionKeys.keys.values()) {
        if (!this.isLive(key)) {
          this.forgetExpired(region, key.keyId);
          changed = true;
        } else if (
          key.state === 'Enabled' &&
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
