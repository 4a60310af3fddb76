import { randomBytes, scrypt } from 'node:crypto';
import { open, seal } from '../shared/aes-gcm.js';
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { isMaterialOf } from './key-material.js';
import { KEY_SPECS, usagesOf, type LocalKeySpec } from './key-specs.js';
import { KeyStore } from './keystore.js';
import type { KmsKey } from './kms-key.js';
import { keyArn } from './names.js';

/**
 * What the store file holds, and how a passphrase protects it. Without a
 * passphrase the file is plain JSON with the key material in base64; with one,
 * everything but the format marker and the scrypt parameters is AES-256-GCM
 * ciphertext under a key derived from the passphrase.
 *
 * Version 2 added key specs, key usages and multi-Region keys as optional
 * members of a key, absent meaning a symmetric single-Region key, so a
 * version 1 store reads as it always did. Stores are written as version 2,
 * which a local KMS from before refuses instead of misreading.
 */

const FORMAT = 'rkms-local-kms-store';
const VERSION = 2;
const READABLE_VERSIONS = [1, 2] as const;
const Version = Type.Union(READABLE_VERSIONS.map((version) => Type.Literal(version)));

const StoredKey = Type.Object({
  keyId: Type.String(),
  creationDate: Type.Number(),
  seq: Type.Integer({ minimum: 1 }),
  description: Type.String(),
  keySpec: Type.Optional(Type.Enum(Object.keys(KEY_SPECS) as LocalKeySpec[])),
  keyUsage: Type.Optional(Type.Enum(['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC'])),
  multiRegion: Type.Optional(Type.Enum(['PRIMARY', 'REPLICA'])),
  state: Type.Enum(['Enabled', 'Disabled', 'PendingDeletion', 'PendingReplicaDeletion']),
  deletionDate: Type.Optional(Type.Number()),
  pendingWindowInDays: Type.Optional(Type.Integer()),
  rotationEnabled: Type.Boolean(),
  rotationPeriodInDays: Type.Integer(),
  nextRotationDate: Type.Optional(Type.Number()),
  materials: Type.Array(Type.String(), { minItems: 1 }),
  rotations: Type.Array(Type.Object({ date: Type.Number(), type: Type.Enum(['AUTOMATIC', 'ON_DEMAND']) })),
  tags: Type.Array(Type.Tuple([Type.String(), Type.String()])),
});

const StoredAlias = Type.Object({
  name: Type.String(),
  targetKeyId: Type.String(),
  creationDate: Type.Number(),
  lastUpdatedDate: Type.Number(),
});

const StoredRegion = Type.Object({
  nextSeq: Type.Integer({ minimum: 1 }),
  keys: Type.Array(StoredKey),
  aliases: Type.Array(StoredAlias),
});

const StoreSnapshot = Type.Object({
  accountId: Type.String(),
  regions: Type.Record(Type.String(), StoredRegion),
});
export type StoreSnapshot = Static<typeof StoreSnapshot>;

const Kdf = Type.Object({
  name: Type.Literal('scrypt'),
  salt: Type.String(),
  N: Type.Integer(),
  r: Type.Integer(),
  p: Type.Integer(),
});
type Kdf = Static<typeof Kdf>;

const PlainFile = Type.Object({
  format: Type.Literal(FORMAT),
  version: Version,
  protected: Type.Literal(false),
  store: StoreSnapshot,
});

const ProtectedFile = Type.Object({
  format: Type.Literal(FORMAT),
  version: Version,
  protected: Type.Literal(true),
  kdf: Kdf,
  iv: Type.String(),
  tag: Type.String(),
  ciphertext: Type.String(),
});

/** A passphrase turned into a key once at start, so each write costs one AES pass and no scrypt. */
export interface Protection {
  readonly kdf: Kdf;
  readonly key: Buffer;
}

export class StoreFormatError extends Error {}
export class WrongPassphraseError extends Error {}

const SCRYPT = { N: 2 ** 15, r: 8, p: 1 };

export async function newProtection(passphrase: string): Promise<Protection> {
  const kdf: Kdf = { name: 'scrypt', salt: randomBytes(16).toString('base64'), ...SCRYPT };
  return { kdf, key: await deriveKey(passphrase, kdf) };
}

export function snapshotOf(store: KeyStore): StoreSnapshot {
  const regions: StoreSnapshot['regions'] = {};
  for (const region of store.regionNames()) {
    const { keys, aliases, nextSeq } = store.contents(region);
    regions[region] = {
      nextSeq,
      keys: keys.map(storedKey),
      aliases: aliases.map((alias) => ({ ...alias })),
    };
  }
  return { accountId: store.accountId, regions };
}

export function restoreInto(store: KeyStore, snapshot: StoreSnapshot): void {
  for (const [region, stored] of Object.entries(snapshot.regions)) {
    store.setNextSeq(region, stored.nextSeq);
    for (const key of stored.keys) store.restoreKey(restoredKey(region, store.accountId, key));
    for (const alias of stored.aliases) store.restoreAlias(region, { ...alias });
  }
}

export function encodeStoreFile(snapshot: StoreSnapshot, protection: Protection | undefined): string {
  if (!protection)
    return JSON.stringify({ format: FORMAT, version: VERSION, protected: false, store: snapshot }, null, 1);
  const { iv, tag, ciphertext } = seal(
    protection.key,
    Buffer.from(JSON.stringify(snapshot), 'utf8'),
    protectedAad(VERSION, protection.kdf),
  );
  return JSON.stringify({
    format: FORMAT,
    version: VERSION,
    protected: true,
    kdf: protection.kdf,
    iv: iv.toString('base64'),
    tag: tag.toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  });
}

export interface DecodedStore {
  readonly snapshot: StoreSnapshot;
  /** Set when the file was protected: writes reuse its salt and derived key. */
  readonly protection: Protection | undefined;
}

/** Reads a store file; throws StoreFormatError or WrongPassphraseError with a message that says what to do. */
export async function decodeStoreFile(
  text: string,
  passphrase: string | undefined,
  path: string,
): Promise<DecodedStore> {
  const parsed = parseJson(text, path);
  if (Value.Check(PlainFile, parsed)) return { snapshot: parsed.store, protection: undefined };
  if (isFromNewerVersion(parsed)) {
    throw new StoreFormatError(
      `${path} was written by a newer local KMS (store version ${String(parsed.version)}); ` +
        `start that version, or move the file away to start with an empty store`,
    );
  }
  if (!Value.Check(ProtectedFile, parsed)) {
    throw new StoreFormatError(
      `${path} is not a local KMS store (or it is damaged); move it away to start with an empty store`,
    );
  }
  if (passphrase === undefined) {
    throw new WrongPassphraseError(
      `${path} is encrypted: give its passphrase (--passphrase or RKMS_LOCAL_KMS_PASSPHRASE)`,
    );
  }
  const protection = { kdf: parsed.kdf, key: await deriveKey(passphrase, parsed.kdf) };
  const plain = decryptOrUndefined(protection, parsed.version, parsed.iv, parsed.tag, parsed.ciphertext);
  if (plain === undefined) {
    throw new WrongPassphraseError(
      `wrong passphrase for ${path} (or the file was altered); the store was left untouched`,
    );
  }
  const snapshot = parseJson(plain, path);
  if (!Value.Check(StoreSnapshot, snapshot))
    throw new StoreFormatError(`${path} decrypted to an unexpected shape`);
  return { snapshot, protection };
}

function decryptOrUndefined(
  protection: Protection,
  version: number,
  iv: string,
  tag: string,
  ciphertext: string,
): string | undefined {
  const sealed = {
    iv: Buffer.from(iv, 'base64'),
    tag: Buffer.from(tag, 'base64'),
    ciphertext: Buffer.from(ciphertext, 'base64'),
  };
  return open(protection.key, sealed, protectedAad(version, protection.kdf))?.toString('utf8');
}

/** The clear part of a protected file is authenticated too, so its KDF parameters cannot be swapped. */
function protectedAad(version: number, kdf: Kdf): Buffer {
  return Buffer.from(JSON.stringify({ format: FORMAT, version, kdf }), 'utf8');
}

function isFromNewerVersion(parsed: unknown): parsed is { version: number } {
  if (parsed === null || typeof parsed !== 'object') return false;
  const { format, version } = parsed as { format?: unknown; version?: unknown };
  return format === FORMAT && typeof version === 'number' && version > VERSION;
}

function deriveKey(passphrase: string, kdf: Kdf): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const options = { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r * kdf.p };
    scrypt(passphrase, Buffer.from(kdf.salt, 'base64'), 32, options, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new StoreFormatError(
      `${path} is not valid JSON (damaged?); move it away to start with an empty store`,
    );
  }
}

function storedKey(key: KmsKey): Static<typeof StoredKey> {
  return {
    keyId: key.keyId,
    creationDate: key.creationDate,
    seq: key.seq,
    description: key.description,
    keySpec: key.keySpec,
    keyUsage: key.keyUsage,
    multiRegion: key.multiRegion,
    state: key.state,
    deletionDate: key.deletionDate,
    pendingWindowInDays: key.pendingWindowInDays,
    rotationEnabled: key.rotationEnabled,
    rotationPeriodInDays: key.rotationPeriodInDays,
    nextRotationDate: key.nextRotationDate,
    materials: key.materials.map((material) => material.toString('base64')),
    rotations: key.rotations.map((rotation) => ({ ...rotation })),
    tags: [...key.tags],
  };
}

function restoredKey(region: string, accountId: string, stored: Static<typeof StoredKey>): KmsKey {
  const keySpec = stored.keySpec ?? 'SYMMETRIC_DEFAULT';
  const keyUsage = stored.keyUsage ?? 'ENCRYPT_DECRYPT';
  const materials = stored.materials.map((material) => Buffer.from(material, 'base64'));
  if (
    !usagesOf(keySpec).includes(keyUsage) ||
    !materials.every((material) => isMaterialOf(keySpec, material))
  ) {
    throw new StoreFormatError(
      `the stored key ${stored.keyId} in ${region} does not hold ${keySpec} key material for ` +
        `${keyUsage} (is the store damaged?)`,
    );
  }
  return {
    ...stored,
    keySpec,
    keyUsage,
    multiRegion: stored.multiRegion,
    deletionDate: stored.deletionDate,
    pendingWindowInDays: stored.pendingWindowInDays,
    nextRotationDate: stored.nextRotationDate,
    region,
    arn: keyArn(region, accountId, stored.keyId),
    materials,
    rotations: stored.rotations.map((rotation) => ({ ...rotation })),
    tags: new Map(stored.tags),
  };
}
