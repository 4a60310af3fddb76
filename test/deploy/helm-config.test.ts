import { describe, expect, it } from 'vitest';
import { checkExposure } from '../../src/cli/security.js';
import type { Config } from '../../src/config/schema.js';
import {
  ANONYMOUS,
  FULL,
  LEDGER,
  LOCKED,
  PAYMENTS,
  TEST_TOKEN,
  chart,
  configToml,
  loadRenderedConfig,
  render,
  withValues,
  type Dict,
} from './chart.js';
import { tokenSha256 } from '../../src/auth/token.js';

/**
 * The config.toml the chart renders, read by the service's own loader (parseConfig) and
 * start-up check (checkExposure): a setting the chart names that the service does not
 * know, a value beyond the service's bounds, or a release the service would refuse to
 * start fails here, not in a pod.
 */

function loaded(values: Dict): Config {
  const config = loadRenderedConfig(configToml(render(values)));
  checkExposure(config);
  return config;
}

describe('the rendered config.toml is one the service starts with', () => {
  it.each<[string, Dict]>([
    ['clients and the helm test token', LOCKED],
    ['every optional part on', FULL],
    ['anonymous callers', ANONYMOUS],
    [
      'an audit file on an emptyDir, gRPC probed',
      withValues(ANONYMOUS, { grpc: { enabled: true }, audit: { destination: 'file' } }),
    ],
  ])('%s', (_name, values) => {
    const config = loaded(values);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.embedded).toMatchObject({ kms: false, dynamodb: false });
  });

  it('carries every setting of the full values under the service’s own names', () => {
    const config = loaded(FULL);
    expect(config.server).toMatchObject({
      port: 8080,
      api_version: 'v1',
      request_timeout_ms: 5000,
      shutdown_timeout_ms: 20_000,
      headers_timeout_ms: 4000,
      receive_timeout_ms: 8000,
      keep_alive_timeout_ms: 75_000,
      max_connections: 2048,
      max_requests_per_socket: 500,
      // The Service's own names are added once each, after the operator's.
      allowed_hosts: ['rkms.example.com', 'rkms.rkms.svc', 'rkms', 'rkms.rkms'],
      tls: { cert: '/etc/rkms/tls/tls.crt', key: '/etc/rkms/tls/tls.key', ca: '/etc/rkms/tls/ca.crt' },
    });
    expect(config.grpc).toMatchObject({
      port: 9090,
      shutdown_timeout_ms: 8000,
      max_concurrent_streams: 200,
      max_connection_age_ms: 600_000,
      keepalive_time_ms: 20_000,
      keepalive_timeout_ms: 5_000,
    });
    expect(config.metrics).toEqual({ port: 9100 });
    expect(config.audit).toEqual({ path: '/var/log/rkms/audit.log' });
    expect(config.rate_limit).toEqual({ requests_per_minute: 30_000, creates_per_minute: 300 });
    expect(config.auth.allow_anonymous).toBe(false);
    expect(config.auth.clients).toEqual([
      {
        name: 'payments',
        token_sha256: PAYMENTS.tokenSha256,
        ids: ['payments/*'],
        actions: ['get', 'create'],
      },
      {
        name: 'ledger',
        cert_subject: LEDGER.certSubject,
        cert_san: 'DNS:ledger.internal',
        ids: ['ledger/*', 'shared?'],
        actions: ['get', 'create', 'delete', 'restore'],
        requests_per_minute: 1200,
        creates_per_minute: 0,
      },
      {
        name: 'helm-test',
        token_sha256: tokenSha256(TEST_TOKEN),
        ids: ['rkms-helm-test'],
        actions: ['get', 'create'],
      },
    ]);
  });

  it('leaves unset settings to the service’s defaults', () => {
    const config = loaded(LOCKED);
    expect(config.server).toMatchObject({ request_timeout_ms: 5000, keep_alive_timeout_ms: 65_000 });
    expect(config.server).not.toHaveProperty('allowed_hosts');
    expect(config.server).not.toHaveProperty('tls');
    expect(config.grpc).not.toHaveProperty('port');
    expect(config.audit).toEqual({});
    expect(config.rate_limit).toEqual({ requests_per_minute: 60_000, creates_per_minute: 600 });
  });

  it('the chart’s auth rule is the service’s: without the choice it would not start', () => {
    const toml = configToml(render(ANONYMOUS));
    expect(() => {
      checkExposure(loadRenderedConfig(toml.replace('allow_anonymous = true', 'allow_anonymous = false')));
    }).toThrow(/no \[\[auth\.clients\]\] are declared/);
  });

  it('refuses a config value that holds a section the chart renders', () => {
    const base = String(chart.defaults.config);
    for (const section of [
      '[server]\nport = 9000',
      '[kms.circuit]\nminimum_calls = 5\n [ metrics ]\nport = 1',
      '[[auth.clients]]\nname = "x"',
      '[auth]\nallow_anonymous = true',
      '[audit]\npath = "/tmp/a"',
      '[rate_limit]\ncreates_per_minute = 1',
      '[grpc]\nport = 9090',
      '[server.tls]\ncert = "c"',
    ]) {
      expect(() => render(withValues(LOCKED, { config: `${base}\n${section}\n` })), section).toThrow(
        /config must not contain \[server\].*: the chart renders them from the values/,
      );
    }
    // Dotted keys and inline tables at the top name a section too.
    expect(() => render(withValues(LOCKED, { config: `grpc.port = 9091\n${base}` }))).toThrow(
      /config must not/,
    );
    expect(() =>
      render(withValues(LOCKED, { config: `rate_limit = { creates_per_minute = 1 }\n${base}` })),
    ).toThrow(/config must not/);
  });
});

/** Values paths whose numbers become config.toml settings, with the setting's path. */
const NUMBERS: [values: string, config: string][] = [
  ['server.requestTimeoutMs', 'server.request_timeout_ms'],
  ['server.shutdownTimeoutMs', 'server.shutdown_timeout_ms'],
  ['server.headersTimeoutMs', 'server.headers_timeout_ms'],
  ['server.receiveTimeoutMs', 'server.receive_timeout_ms'],
  ['server.keepAliveTimeoutMs', 'server.keep_alive_timeout_ms'],
  ['server.maxConnections', 'server.max_connections'],
  ['server.maxRequestsPerSocket', 'server.max_requests_per_socket'],
  ['grpc.shutdownTimeoutMs', 'grpc.shutdown_timeout_ms'],
  ['grpc.maxConcurrentStreams', 'grpc.max_concurrent_streams'],
  ['grpc.maxConnectionAgeMs', 'grpc.max_connection_age_ms'],
  ['grpc.keepaliveTimeMs', 'grpc.keepalive_time_ms'],
  ['grpc.keepaliveTimeoutMs', 'grpc.keepalive_timeout_ms'],
  ['rateLimit.requestsPerMinute', 'rate_limit.requests_per_minute'],
  ['rateLimit.createsPerMinute', 'rate_limit.creates_per_minute'],
];

const PORTS: [values: string, config: string][] = [
  ['server.port', 'server.port'],
  ['grpc.port', 'grpc.port'],
  ['metrics.port', 'metrics.port'],
];

/** The schema of one value (`server.port`), from values.schema.json. */
function valueSchema(dotted: string): { minimum?: number; maximum?: number } {
  let schema = chart.schema;
  for (const key of dotted.split('.')) schema = (schema.properties as Dict)[key] as Dict;
  const [integer] = ((schema.oneOf as Dict[] | undefined) ?? [schema]).filter((s) => s.minimum !== undefined);
  return integer ?? {};
}

function setPath(values: Dict, dotted: string, value: unknown): Dict {
  const keys = dotted.split('.');
  const last = keys.pop() ?? '';
  let node = values;
  for (const key of keys) node = (node[key] ??= {}) as Dict;
  node[last] = value;
  return values;
}

function pick(config: Config, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, k) => (v as Dict)[k], config);
}

describe('values.schema.json allows no number the service refuses', () => {
  it.each(['minimum', 'maximum'] as const)('every timeout and limit at its %s', (bound) => {
    const values = structuredClone(FULL);
    const expected: [string, number][] = [];
    for (const [valuePath, configPath] of NUMBERS) {
      const limit = valueSchema(valuePath)[bound];
      if (limit === undefined) continue;
      setPath(values, valuePath, limit);
      expected.push([configPath, limit]);
    }
    expect(expected.length).toBeGreaterThanOrEqual(bound === 'minimum' ? NUMBERS.length : 7);
    const config = loaded(values);
    for (const [configPath, limit] of expected) expect(pick(config, configPath), configPath).toBe(limit);
  });

  it.each(PORTS)('%s at both ends of its range', (valuePath, configPath) => {
    for (const bound of ['minimum', 'maximum'] as const) {
      const port = valueSchema(valuePath)[bound];
      expect(port).toBeDefined();
      const config = loaded(setPath(structuredClone(FULL), valuePath, port));
      expect(pick(config, configPath)).toBe(port);
    }
  });
});
