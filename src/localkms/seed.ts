import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { describeSchemaErrors } from '../shared/schema-errors.js';
import { isKmsError } from './errors.js';
import { isMaterialOf, newKeyMaterial } from './key-material.js';
import { KEY_SPECS, usagesOf, type LocalKeySpec, type LocalKeyUsage } from './key-specs.js';
import type { KeyStore } from './keystore.js';
import type { KmsKey } from './kms-key.js';
import { KEY_ID_PATTERN, isMultiRegionKeyId } from './names.js';
import { assertAliasName } from './operations/alias-names.js';

/**
 * Keys with fixed ids and aliases, created at start so a test suite can rely on
 * known key ids. Seeding is idempotent: an existing key keeps its key material
 * and state, and the seeded aliases are (re)pointed at their keys. A
 * multi-Region key is created in the first of its regions and replicated to
 * the others, so every region holds the same key material.
 */

const SeedKeySchema = Type.Object(
  {
    /** A UUID, as AWS key ids are; `mrk-` and 32 hex digits for a multi-Region key. */
    keyId: Type.String({ pattern: KEY_ID_PATTERN }),
    /** SYMMETRIC_DEFAULT when omitted; see CreateKey. */
    keySpec: Type.Optional(Type.Enum(Object.keys(KEY_SPECS) as LocalKeySpec[])),
    /** Required for every key spec but SYMMETRIC_DEFAULT, as in CreateKey. */
    keyUsage: Type.Optional(Type.Enum(['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC'])),
    /** A multi-Region key: primary in the first of its regions, replicas in the others. */
    multiRegion: Type.Optional(Type.Boolean()),
    /** One region, or several; every configured region when both are omitted. */
    region: Type.Optional(Type.String()),
    regions: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    description: Type.Optional(Type.String({ maxLength: 8192 })),
    aliases: Type.Optional(Type.Array(Type.String())),
    tags: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** false creates the key Disabled. */
    enabled: Type.Optional(Type.Boolean()),
    /** true turns automatic rotation on. */
    rotation: Type.Optional(Type.Boolean()),
    /**
     * Base64 of the key material, for ciphertexts and signatures that stay valid
     * across runs (test fixtures); random when omitted. 32 bytes for
     * SYMMETRIC_DEFAULT, the key length for HMAC, a DER PKCS #8 private key for
     * RSA and ECC.
     */
    keyMaterial: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const SeedSpecSchema = Type.Object(
  { keys: Type.Array(SeedKeySchema) },
  { additionalProperties: false },
);
export type SeedKey = Static<typeof SeedKeySchema>;
export type SeedSpec = Static<typeof SeedSpecSchema>;

export class SeedError extends Error {}

/** Reads a seed file: `.toml` as TOML, anything else as JSON. */
export async function loadSeedFile(path: string): Promise<SeedSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SeedError(`cannot read seed file ${path}: ${(error as Error).message}`);
  }
  return parseSeed(text, extname(path).toLowerCase() === '.toml' ? 'toml' : 'json', path);
}

export function parseSeed(text: string, format: 'json' | 'toml', source = 'seed'): SeedSpec {
  let parsed: unknown;
  try {
    parsed = format === 'toml' ? parseToml(text) : JSON.parse(text);
  } catch (error) {
    throw new SeedError(`${source} is not valid ${format.toUpperCase()}: ${(error as Error).message}`);
  }
  return validSeed(parsed, source);
}

export function validSeed(value: unknown, source = 'seed'): SeedSpec {
  const plain: unknown = JSON.parse(JSON.stringify(value ?? null));
  if (Value.Check(SeedSpecSchema, plain)) return plain;
  const problems = describeSchemaErrors(SeedSpecSchema, plain, 3);
  throw new SeedError(
    `${source} is not a valid seed: ${problems.join('; ')}. Expected {"keys": [{"keyId": "<uuid>", ` +
      `"region": "us-east-1", "aliases": ["alias/app"]}]}`,
  );
}

/** Creates the seeded keys and aliases that are missing; returns whether the store changed. */
export async function applySeed(
  store: KeyStore,
  seed: SeedSpec,
  servedRegions: readonly string[],
): Promise<boolean> {
  const plan = seed.keys.map((key) => ({
    key,
    kind: kindOf(key),
    regions: regionsOf(key, servedRegions),
    material: materialOf(key),
  }));
  assertNoAliasConflicts(plan);
  let changed = false;
  for (const { key, kind, regions, material } of plan) {
    const keyId = key.keyId.toLowerCase();
    const shared = kind.multiRegion ? (material ?? (await newKeyMaterial(kind.keySpec))) : material;
    for (const region of regions) {
      if (!store.liveKey(region, keyId)) {
        const primary = kind.multiRegion ? livePrimary(store, keyId, regions) : undefined;
        if (primary) {
          const replica = store.replicate(primary, region, {
            description: key.description ?? '',
            tags: Object.entries(key.tags ?? {}),
          });
          if (key.enabled === false) replica.state = 'Disabled';
        } else {
          store.createKey(region, {
            keyId,
            description: key.description ?? '',
            tags: Object.entries(key.tags ?? {}),
            keySpec: kind.keySpec,
            keyUsage: kind.keyUsage,
            material: shared ?? (await newKeyMaterial(kind.keySpec)),
            enabled: key.enabled ?? true,
            rotationEnabled: key.rotation ?? false,
            multiRegion: kind.multiRegion,
          });
        }
        changed = true;
      }
      for (const alias of key.aliases ?? []) {
        if (store.liveAlias(region, alias)?.targetKeyId !== keyId) {
          store.putAlias(region, alias, keyId);
          changed = true;
        }
      }
    }
  }
  return changed;
}

interface SeedKind {
  readonly keySpec: LocalKeySpec;
  readonly keyUsage: LocalKeyUsage;
  readonly multiRegion: boolean;
}

/** The same rules as CreateKey, with messages that name the seed entry. */
function kindOf(key: SeedKey): SeedKind {
  const keySpec = key.keySpec ?? 'SYMMETRIC_DEFAULT';
  if (key.keyUsage === undefined && keySpec !== 'SYMMETRIC_DEFAULT') {
    throw new SeedError(`seed key ${key.keyId}: keyUsage is required for a ${keySpec} key`);
  }
  const keyUsage = key.keyUsage ?? 'ENCRYPT_DECRYPT';
  if (!usagesOf(keySpec).includes(keyUsage)) {
    throw new SeedError(
      `seed key ${key.keyId}: a ${keySpec} key can have keyUsage ${usagesOf(keySpec).join(' or ')}, not ${keyUsage}`,
    );
  }
  const multiRegion = key.multiRegion ?? false;
  if (multiRegion !== isMultiRegionKeyId(key.keyId)) {
    throw new SeedError(
      multiRegion
        ? `seed key ${key.keyId}: a multi-Region key id is mrk- and 32 hex digits`
        : `seed key ${key.keyId}: an mrk- key id needs multiRegion = true`,
    );
  }
  if (key.rotation && keySpec !== 'SYMMETRIC_DEFAULT') {
    throw new SeedError(`seed key ${key.keyId}: only SYMMETRIC_DEFAULT keys rotate`);
  }
  return { keySpec, keyUsage, multiRegion };
}

/** The primary of a seeded multi-Region key, wherever it is now (UpdatePrimaryRegion may have moved it). */
function livePrimary(store: KeyStore, keyId: string, regions: readonly string[]): KmsKey | undefined {
  for (const region of [...regions, ...store.regionNames()]) {
    const key = store.liveKey(region, keyId);
    if (key?.multiRegion === 'PRIMARY') return key;
  }
  return undefined;
}

function regionsOf(key: SeedKey, servedRegions: readonly string[]): readonly string[] {
  const regions = key.regions ?? (key.region === undefined ? servedRegions : [key.region]);
  for (const region of regions) {
    if (!servedRegions.includes(region)) {
      throw new SeedError(
        `seed key ${key.keyId}: region ${region} is not served (regions: ${servedRegions.join(', ')})`,
      );
    }
  }
  return regions;
}

function materialOf(key: SeedKey): Buffer | undefined {
  if (key.keyMaterial === undefined) return undefined;
  const keySpec = key.keySpec ?? 'SYMMETRIC_DEFAULT';
  const material = Buffer.from(key.keyMaterial, 'base64');
  if (material.toString('base64') !== key.keyMaterial || !isMaterialOf(keySpec, material)) {
    throw new SeedError(
      `seed key ${key.keyId}: keyMaterial must be the base64 of ${materialDescription(keySpec)}`,
    );
  }
  return material;
}

function materialDescription(keySpec: LocalKeySpec): string {
  const kind = KEY_SPECS[keySpec];
  if (kind.kind === 'symmetric') return 'exactly 32 bytes';
  if (kind.kind === 'hmac') return `exactly ${kind.keyBytes} bytes (${keySpec})`;
  return `a DER PKCS #8 ${keySpec} private key`;
}

function assertNoAliasConflicts(plan: { key: SeedKey; regions: readonly string[] }[]): void {
  const owners = new Map<string, string>();
  for (const { key, regions } of plan) {
    for (const alias of key.aliases ?? []) {
      try {
        assertAliasName(alias);
      } catch (error) {
        throw new SeedError(`seed key ${key.keyId}: ${isKmsError(error) ? error.message : String(error)}`);
      }
      for (const region of regions) {
        const owner = owners.get(`${region} ${alias}`);
        if (owner !== undefined && owner !== key.keyId.toLowerCase()) {
          throw new SeedError(`seed: ${alias} in ${region} is given to both ${owner} and ${key.keyId}`);
        }
        owners.set(`${region} ${alias}`, key.keyId.toLowerCase());
      }
    }
  }
}
