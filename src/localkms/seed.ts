import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import TOML from '@iarna/toml';
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { isKmsError } from './errors.js';
import type { KeyStore } from './keystore.js';
import { KEY_MATERIAL_BYTES } from './keystore.js';
import { assertAliasName } from './operations/alias-names.js';

/**
 * Keys with fixed ids and aliases, created at start so a test suite can rely on
 * known key ids. Seeding is idempotent: an existing key keeps its key material
 * and state, and the seeded aliases are (re)pointed at their keys.
 */

const KEY_ID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

const SeedKeySchema = Type.Object(
  {
    /** A UUID, as AWS key ids are. */
    keyId: Type.String({ pattern: KEY_ID_PATTERN }),
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
    /** Base64 of 32 bytes, for ciphertexts that stay valid across runs (test fixtures); random when omitted. */
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
    parsed = format === 'toml' ? TOML.parse(text) : JSON.parse(text);
  } catch (error) {
    throw new SeedError(`${source} is not valid ${format.toUpperCase()}: ${(error as Error).message}`);
  }
  return validSeed(parsed, source);
}

export function validSeed(value: unknown, source = 'seed'): SeedSpec {
  const plain: unknown = JSON.parse(JSON.stringify(value ?? null));
  if (Value.Check(SeedSpecSchema, plain)) return plain;
  const problems = Value.Errors(SeedSpecSchema, plain)
    .slice(0, 3)
    .map((error) => `${error.instancePath || '(top)'} ${error.message}`);
  throw new SeedError(
    `${source} is not a valid seed: ${problems.join('; ')}. Expected {"keys": [{"keyId": "<uuid>", "region": "us-east-1", "aliases": ["alias/app"]}]}`,
  );
}

/** Creates the seeded keys and aliases that are missing; returns whether the store changed. */
export function applySeed(store: KeyStore, seed: SeedSpec, servedRegions: readonly string[]): boolean {
  const plan = seed.keys.map((key) => ({
    key,
    regions: regionsOf(key, servedRegions),
    material: materialOf(key),
  }));
  assertNoAliasConflicts(plan);
  let changed = false;
  for (const { key, regions, material } of plan) {
    for (const region of regions) {
      if (!store.liveKey(region, key.keyId)) {
        store.createKey(region, {
          keyId: key.keyId,
          description: key.description ?? '',
          tags: Object.entries(key.tags ?? {}),
          ...(material ? { material } : {}),
          enabled: key.enabled ?? true,
          rotationEnabled: key.rotation ?? false,
        });
        changed = true;
      }
      for (const alias of key.aliases ?? []) {
        if (store.liveAlias(region, alias)?.targetKeyId !== key.keyId.toLowerCase()) {
          store.putAlias(region, alias, key.keyId.toLowerCase());
          changed = true;
        }
      }
    }
  }
  return changed;
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
  const material = Buffer.from(key.keyMaterial, 'base64');
  if (material.length !== KEY_MATERIAL_BYTES || material.toString('base64') !== key.keyMaterial) {
    throw new SeedError(
      `seed key ${key.keyId}: keyMaterial must be the base64 of exactly ${KEY_MATERIAL_BYTES} bytes`,
    );
  }
  return material;
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
