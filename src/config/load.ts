import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { Value } from 'typebox/value';
import { describeSchemaErrors } from '../shared/schema-errors.js';
import { MAX_CACHE_TTL_SECONDS, defaultKeyId, defaultMinRegions } from './defaults.js';
import { ConfigSchema, type Config, type ConfigFile, type KmsConfig } from './schema.js';
import { resolveSecurityPaths, securityConfigProblem } from './security-schema.js';

/** The config cannot be used; the message names the field and what it expects. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_CONFIG_PATH = 'config.toml';

/** `--config` wins over `RKMS_CONFIG`, which wins over ./config.toml. */
export function configPathFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return path.resolve(flag ?? env.RKMS_CONFIG ?? DEFAULT_CONFIG_PATH);
}

export async function loadConfigFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = () => undefined,
): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(err);
    throw new ConfigError(
      `cannot read config file ${file}: ${reason} (choose the file with --config PATH or RKMS_CONFIG)`,
    );
  }
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    const where = err as { line?: number; column?: number; message: string };
    const at = where.line === undefined ? '' : ` (line ${where.line}, column ${where.column ?? 1})`;
    throw new ConfigError(`${file}: not valid TOML: ${where.message.split('\n')[0] ?? ''}${at}`);
  }
  try {
    return parseConfig(raw, { baseDir: path.dirname(file), env, warn });
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.message}`);
    throw err;
  }
}

export interface ParseOptions {
  /** Relative paths in the config (the data directory) resolve against this directory. */
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  /** Told about settings that load but were changed (an original setting beyond today's limits). */
  warn?: (message: string) => void;
}

/** Validates a parsed config document, applies defaults and environment overrides. */
export function parseConfig(raw: unknown, { baseDir, env = {}, warn }: ParseOptions): Config {
  const doc = withEnvironmentOverrides(structuredClone(toPlainObject(raw)), env);
  const explicitCacheTtl = hasPath(doc, ['cache', 'ttl_seconds']);
  const withDefaults = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, doc));
  const problems = describeSchemaErrors(ConfigSchema, withDefaults);
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  const file = withDefaults as ConfigFile;
  checkCrossFieldRules(file);
  const config: Config = { ...file, kms: withDerivedDefaults(file.kms) };
  const legacyTtlMinutes = config.dynamodb.cache_expiration_in_minutes;
  if (!explicitCacheTtl && legacyTtlMinutes !== undefined) {
    const seconds = Math.round(legacyTtlMinutes * 60);
    if (seconds > MAX_CACHE_TTL_SECONDS) {
      warn?.(
        `dynamodb.cache_expiration_in_minutes = ${legacyTtlMinutes}: keys stay cached ` +
          `${MAX_CACHE_TTL_SECONDS / 60} minutes at most, ` +
          'so a deleted key can never outlive its deletion window in a cache',
      );
    }
    config.cache.ttl_seconds = Math.min(seconds, MAX_CACHE_TTL_SECONDS);
  }
  config.embedded.data_dir = path.resolve(baseDir, config.embedded.data_dir);
  resolveSecurityPaths(config, baseDir);
  return config;
}

/** The KMS settings whose defaults depend on `regions`: a key alias for each, and the quorum. */
function withDerivedDefaults(kms: ConfigFile['kms']): KmsConfig {
  return {
    ...kms,
    key_ids: Object.fromEntries(
      kms.regions.map((region) => [region, kms.key_ids[region] ?? defaultKeyId(region)]),
    ),
    min_regions: kms.min_regions ?? defaultMinRegions(kms.regions.length),
  };
}

function toPlainObject(raw: unknown): Record<string, unknown> {
  // TOML dates and null-prototype tables become the plain JSON values the schema tools expect.
  return JSON.parse(JSON.stringify(raw ?? {})) as Record<string, unknown>;
}

const ENV_OVERRIDES: readonly [variable: string, path: [string, string]][] = [
  ['RKMS_HOST', ['server', 'host']],
  ['RKMS_PORT', ['server', 'port']],
  ['RKMS_LOG_LEVEL', ['logger', 'level']],
  ['RKMS_DATA_DIR', ['embedded', 'data_dir']],
];

function withEnvironmentOverrides(doc: Record<string, unknown>, env: NodeJS.ProcessEnv) {
  for (const [variable, [section, key]] of ENV_OVERRIDES) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    const table = (doc[section] ??= {}) as Record<string, unknown>;
    table[key] = value;
  }
  return doc;
}

function hasPath(doc: Record<string, unknown>, [section, key]: [string, string]): boolean {
  const table = doc[section];
  return typeof table === 'object' && table !== null && key in table;
}

function checkCrossFieldRules(config: ConfigFile): void {
  const securityProblem = securityConfigProblem(config);
  if (securityProblem) throw new ConfigError(securityProblem);
  const regions = new Set(config.kms.regions);
  for (const field of ['key_ids', 'endpoints'] as const) {
    for (const region of Object.keys(config.kms[field])) {
      if (!regions.has(region)) {
        throw new ConfigError(
          `kms.${field}.${region}: region ${region} is not in kms.regions (${config.kms.regions.join(', ')})`,
        );
      }
    }
  }
  const minRegions = config.kms.min_regions;
  if (minRegions !== undefined && minRegions > config.kms.regions.length) {
    throw new ConfigError(
      `kms.min_regions: ${minRegions} is more than the ${config.kms.regions.length} configured regions (kms.regions)`,
    );
  }
  if (config.embedded.kms && Object.keys(config.kms.endpoints).length > 0) {
    throw new ConfigError(
      'kms.endpoints: set endpoints or embedded.kms = true, not both (the embedded local KMS serves every region)',
    );
  }
  if (config.embedded.dynamodb && (config.dynamodb.endpoint || config.dynamodb.read_endpoint)) {
    throw new ConfigError(
      'dynamodb.endpoint: set an endpoint or embedded.dynamodb = true, not both (the embedded store replaces it)',
    );
  }
  if (config.dynamodb.read_region && !config.dynamodb.read_endpoint && config.embedded.dynamodb) {
    throw new ConfigError('dynamodb.read_region: the embedded store has no read replica; remove read_region');
  }
}
