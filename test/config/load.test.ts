import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, configPathFrom, loadConfigFile, parseConfig } from '../../src/config/load.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rkms-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(text: string, env: NodeJS.ProcessEnv = {}) {
  const file = path.join(dir, `c-${Math.random()}.toml`);
  await writeFile(file, text);
  return loadConfigFile(file, env);
}

/** The original Go RKMS's config.toml, as it shipped. */
const ORIGINAL = `
[server]
  port = "8080"
  api_version = "v1"

[logger]
  level = "debug"

[kms]
  regions = [
    "us-east-1",
    "us-east-2",
    "us-west-1"
    ]

  key_ids = {
    us-east-1 = "alias/rkms-us-east-1",
    us-east-2 = "alias/rkms-us-east-2",
    us-west-1 = "alias/rkms-us-west-1" }

  data_key_size_in_bytes = 32

[dynamodb]
  region = "us-east-1"
  table_name = "rkms_keys"
  cache_expiration_in_minutes = 5
  cache_cleanup_internal_in_minutes = 10
`;

describe('loading the config', () => {
  it("loads the original RKMS's config.toml with the same meaning", async () => {
    const config = await load(ORIGINAL);
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8080,
      api_version: 'v1',
      request_timeout_ms: 5000,
      shutdown_timeout_ms: 10_000,
      headers_timeout_ms: 5000,
      receive_timeout_ms: 10_000,
      keep_alive_timeout_ms: 65_000,
      max_connections: 1024,
      max_requests_per_socket: 1000,
    });
    // No clients declared: anonymous callers, as the original served them, on loopback.
    expect(config.auth).toEqual({ allow_anonymous: false, clients: [] });
    expect(config.audit).toEqual({});
    expect(config.logger.level).toBe('debug');
    expect(config.kms.regions).toEqual(['us-east-1', 'us-east-2', 'us-west-1']);
    expect(config.kms.key_ids['us-east-2']).toBe('alias/rkms-us-east-2');
    expect(config.kms.data_key_size_in_bytes).toBe(32);
    expect(config.dynamodb).toMatchObject({ region: 'us-east-1', table_name: 'rkms_keys' });
    expect(config.cache.ttl_seconds).toBe(300); // from cache_expiration_in_minutes
    expect(config.embedded).toMatchObject({ kms: false, dynamodb: false });
  });

  it('fills in defaults, including a key alias per region', async () => {
    const config = await load('[kms]\nregions = ["eu-west-1"]\n[dynamodb]\nregion = "eu-west-1"\n');
    expect(config.kms.key_ids).toEqual({ 'eu-west-1': 'alias/rkms-eu-west-1' });
    expect(config.kms).toMatchObject({ data_key_size_in_bytes: 32, timeout_ms: 2000, max_attempts: 2 });
    expect(config.keys.deletion_window_days).toBe(7);
    expect(config.dynamodb.table_name).toBe('rkms_keys');
    expect(config.server.request_timeout_ms).toBe(5000);
  });

  it.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
  ])(
    'needs copies in a majority of %i regions (%i) unless kms.min_regions says otherwise',
    (count, majority) => {
      const regions = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1'].slice(0, count);
      const config = parseConfig({ kms: { regions }, dynamodb: { region: 'us-east-1' } }, { baseDir: '/' });
      expect(config.kms.min_regions).toBe(majority);
      const explicit = parseConfig(
        { kms: { regions, min_regions: 1 }, dynamodb: { region: 'us-east-1' } },
        { baseDir: '/' },
      );
      expect(explicit.kms.min_regions).toBe(1);
    },
  );

  it("caps the original's cache_expiration_in_minutes at an hour, and says so", () => {
    const warnings: string[] = [];
    const config = parseConfig(
      {
        kms: { regions: ['us-east-1'] },
        dynamodb: { region: 'us-east-1', cache_expiration_in_minutes: 120 },
      },
      { baseDir: '/', warn: (w) => warnings.push(w) },
    );
    expect(config.cache.ttl_seconds).toBe(3600);
    expect(warnings).toEqual([
      expect.stringMatching(/cache_expiration_in_minutes = 120: keys stay cached 60 minutes at most/),
    ]);
  });

  it('lets the environment override the port, host, log level and data directory', async () => {
    const config = await load('[kms]\nregions = ["us-east-1"]\n[dynamodb]\nregion = "us-east-1"\n', {
      RKMS_PORT: '9999',
      RKMS_HOST: '0.0.0.0',
      RKMS_LOG_LEVEL: 'warn',
      RKMS_DATA_DIR: '/var/lib/rkms',
    });
    expect(config.server).toMatchObject({ port: 9999, host: '0.0.0.0' });
    expect(config.logger.level).toBe('warn');
    expect(config.embedded.data_dir).toBe('/var/lib/rkms');
  });

  it('resolves the data directory against the config file, not the working directory', () => {
    const config = parseConfig(
      { kms: { regions: ['us-east-1'] }, dynamodb: { region: 'us-east-1' }, embedded: { data_dir: 'data' } },
      { baseDir: '/etc/rkms' },
    );
    expect(config.embedded.data_dir).toBe('/etc/rkms/data');
  });

  it('chooses the file from --config, then RKMS_CONFIG, then ./config.toml', () => {
    expect(configPathFrom('/a.toml', { RKMS_CONFIG: '/b.toml' })).toBe('/a.toml');
    expect(configPathFrom(undefined, { RKMS_CONFIG: '/b.toml' })).toBe('/b.toml');
    expect(configPathFrom(undefined, {})).toBe(path.resolve('config.toml'));
  });

  it('loads the repository config.toml: the embedded default', async () => {
    const config = await loadConfigFile(path.resolve('config.toml'), {});
    expect(config.embedded).toMatchObject({ kms: true, dynamodb: true, data_dir: path.resolve('data') });
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080 });
  });
});

describe('invalid configs name the field and what it expects', () => {
  const minimal = { kms: { regions: ['us-east-1'] }, dynamodb: { region: 'us-east-1' } };
  const invalid = (patch: Record<string, unknown>) => () =>
    parseConfig({ ...minimal, ...patch }, { baseDir: '/' });

  it.each([
    ['server.port', { server: { port: 70000 } }, /server\.port: must be <= 65535 \(got 70000\)/],
    [
      'kms.regions',
      { kms: { regions: ['not a region'] } },
      /kms\.regions\.0: must be an AWS region name such as us-east-1 \(got "not a region"\)/,
    ],
    [
      'kms.data_key_size_in_bytes',
      { kms: { regions: ['us-east-1'], data_key_size_in_bytes: 0 } },
      /kms\.data_key_size_in_bytes: must be >= 1 \(got 0\)/,
    ],
    ['logger.level', { logger: { level: 'loud' } }, /logger\.level: must be one of trace, debug, info/],
    ['dynamodb.region', { dynamodb: {} }, /dynamodb\.region: is required/],
    [
      'dynamodb.endpoint',
      { dynamodb: { region: 'us-east-1', endpoint: 'localhost:8000' } },
      /dynamodb\.endpoint: must be an http:\/\/ or https:\/\/ URL/,
    ],
    ['an unknown section', { servre: {} }, /servre: unknown setting/],
    [
      'a port that is not a number',
      { server: { port: 'eighty' } },
      /server\.port: must be integer \(got "eighty"\)/,
    ],
    ['no KMS regions', { kms: { regions: [] } }, /kms\.regions: must not have fewer than 1 items/],
    [
      'a misspelt setting',
      { dynamodb: { region: 'us-east-1', tabel_name: 'x' } },
      /dynamodb\.tabel_name: unknown setting \(check its spelling and section\)/,
    ],
    [
      'a key id for an unlisted region',
      { kms: { regions: ['us-east-1'], key_ids: { 'eu-west-1': 'alias/x' } } },
      /kms\.key_ids\.eu-west-1: region eu-west-1 is not in kms\.regions/,
    ],
    [
      'kms.min_regions above the region count',
      { kms: { regions: ['us-east-1'], min_regions: 2 } },
      /kms\.min_regions: 2 is more than the 1 configured regions/,
    ],
    // A deleted key must stay recoverable for a while, and no replica's cache may outlive the window.
    [
      'keys.deletion_window_days of 0',
      { keys: { deletion_window_days: 0 } },
      /keys\.deletion_window_days: must be >= 1 \(got 0\)/,
    ],
    [
      'cache.ttl_seconds over an hour',
      { cache: { ttl_seconds: 3601 } },
      /cache\.ttl_seconds: must be <= 3600 \(got 3601\)/,
    ],
    [
      'server.request_timeout_ms of 0',
      { server: { request_timeout_ms: 0 } },
      /server\.request_timeout_ms: must be >= 100/,
    ],
    [
      'embedded with endpoints',
      { kms: { regions: ['us-east-1'], endpoints: { 'us-east-1': 'http://x' } }, embedded: { kms: true } },
      /set endpoints or embedded\.kms = true, not both/,
    ],
  ])('%s', (_field, patch, message) => {
    expect(invalid(patch)).toThrow(ConfigError);
    expect(invalid(patch)).toThrow(message);
  });
});

describe('TOML', () => {
  it('reads a multi-line inline table (TOML 1.1), keeping strings and comments intact', async () => {
    const config = await load(`
[kms]
regions = ["us-east-1", "us-east-2"] # a comment { with a brace
key_ids = {
  us-east-1 = "alias/has # hash and } brace", # a comment inside
  us-east-2 = 'alias/literal'
}
[dynamodb]
region = "us-east-1"
`);
    expect(config.kms.key_ids).toEqual({
      'us-east-1': 'alias/has # hash and } brace',
      'us-east-2': 'alias/literal',
    });
  });

  it('reports a broken file with the line it breaks on', async () => {
    await expect(load('[kms]\nregions = [\n')).rejects.toThrow(/not valid TOML: .*line 3/);
  });
});
