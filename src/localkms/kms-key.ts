import { randomBytes, randomUUID } from 'node:crypto';
import { SYMMETRIC_KEY_BYTES } from './key-material.js';
import type { LocalKeySpec, LocalKeyUsage } from './key-specs.js';
import { keyArn } from './names.js';

/**
 * What one KMS key and alias of the emulator are, and how a new one is made; `keystore.ts`
 * keeps them per region.
 */

/**
 * The key states of this emulator. PendingReplicaDeletion is a multi-Region
 * primary key scheduled for deletion while replicas of it exist; AWS's
 * transient Creating and Updating states are never observed here, since
 * replication and primary changes complete within the call.
 */
export type KmsKeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingReplicaDeletion';
export type RotationType = 'AUTOMATIC' | 'ON_DEMAND';
export type MultiRegionRole = 'PRIMARY' | 'REPLICA';

export const DEFAULT_ROTATION_PERIOD_DAYS = 365;
export const DAY_MS = 24 * 60 * 60 * 1000;

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
  state: KmsKeyState;
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

/** CreateKey's parameters, as the emulator takes them. */
export interface NewKmsKey {
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

/** Where a new key is made: its region, account, place in the region's order, and the time. */
export interface KeyPlace {
  region: string;
  accountId: string;
  seq: number;
  now: number;
}

/** The key id a new key gets: the one asked for (lowercase), or a new one. */
export function keyIdFor(spec: NewKmsKey): string {
  return (spec.keyId ?? newKeyId(spec.multiRegion ?? false)).toLowerCase();
}

export function newKmsKey(keyId: string, { region, accountId, seq, now }: KeyPlace, spec: NewKmsKey): KmsKey {
  const rotationEnabled = spec.rotationEnabled ?? false;
  const keySpec = spec.keySpec ?? 'SYMMETRIC_DEFAULT';
  if (keySpec !== 'SYMMETRIC_DEFAULT' && !spec.material)
    throw new Error(`a ${keySpec} key needs its material`);
  return {
    keyId,
    region,
    arn: keyArn(region, accountId, keyId),
    creationDate: now,
    seq,
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
}

/**
 * A replica of a multi-Region primary key in another region: the same key
 * id, spec, usage, key material and rotation settings; its own description,
 * tags, aliases and state.
 */
export function replicaOf(
  primary: KmsKey,
  { region, accountId, seq, now }: KeyPlace,
  spec: NewReplica,
): KmsKey {
  return {
    rotationEnabled: primary.rotationEnabled,
    rotationPeriodInDays: primary.rotationPeriodInDays,
    nextRotationDate: primary.nextRotationDate,
    materials: [...primary.materials],
    rotations: primary.rotations.map((rotation) => ({ ...rotation })),
    keyId: primary.keyId,
    region,
    arn: keyArn(region, accountId, primary.keyId),
    creationDate: now,
    seq,
    keySpec: primary.keySpec,
    keyUsage: primary.keyUsage,
    multiRegion: 'REPLICA',
    description: spec.description ?? '',
    state: 'Enabled',
    deletionDate: undefined,
    pendingWindowInDays: undefined,
    tags: new Map(spec.tags ?? []),
  };
}

/** AWS's key ids: a UUID, or `mrk-` and 32 hex digits for a multi-Region key. */
function newKeyId(multiRegion: boolean): string {
  return multiRegion ? `mrk-${randomUUID().replaceAll('-', '')}` : randomUUID();
}
