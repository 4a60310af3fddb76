import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkExposure } from '../../src/cli/security.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const BASE = { kms: { regions: ['us-east-1'] }, dynamodb: { region: 'us-east-1' } };
const HASH = 'a'.repeat(64);
const parse = (extra: Record<string, unknown>) =>
  parseConfig({ ...BASE, ...extra }, { baseDir: '/etc/rkms' });
const client = (fields: Record<string, unknown> = {}) => ({
  name: 'billing',
  token_sha256: HASH,
  ids: ['billing/*'],
  actions: ['get'],
  ...fields,
});

describe('the security settings', () => {
  it('have safe defaults: bounded waits and connections, creation limits, audit on stdout', () => {
    const config = parse({});
    expect(config.server).toMatchObject({
      headers_timeout_ms: 5000,
      receive_timeout_ms: 10_000,
      keep_alive_timeout_ms: 65_000,
      max_connections: 1024,
      max_requests_per_socket: 1000,
    });
    expect(config.rate_limit).toEqual({ requests_per_minute: 60_000, creates_per_minute: 600 });
    expect(config.audit.path).toBeUndefined();
  });

  it('resolve TLS files and the audit file against the config file’s directory', () => {
    const config = parse({
      server: { tls: { cert: 'tls/cert.pem', key: '/abs/key.pem', ca: 'ca.pem' } },
      audit: { path: 'audit.log' },
    });
    expect(config.server.tls).toEqual({
      cert: path.resolve('/etc/rkms/tls/cert.pem'),
      key: '/abs/key.pem',
      ca: path.resolve('/etc/rkms/ca.pem'),
    });
    expect(config.audit.path).toBe(path.resolve('/etc/rkms/audit.log'));
  });

  it.each([
    [
      { auth: { clients: [client({ actions: ['read'] })] } },
      /auth\.clients\.0\.actions\.0: must be one of get, create, delete, restore/,
    ],
    [{ auth: { clients: [client({ token_sha256: 'abc' })] } }, /the hex SHA-256 of the bearer token/],
    [{ auth: { clients: [client({ name: 'has space' })] } }, /auth\.clients\.0\.name/],
    [{ auth: { clients: [client({ ids: [] })] } }, /auth\.clients\.0\.ids/],
    [{ auth: { clients: [client({ token: 'x' })] } }, /auth\.clients\.0\.token: unknown setting/],
    [
      { auth: { clients: [client(), client()] } },
      /auth\.clients\[1\]\.name: another client is named billing/,
    ],
    [
      { auth: { clients: [client(), client({ name: 'other', token_sha256: HASH.toUpperCase() })] } },
      /auth\.clients\[1\]\.token_sha256: another client has the same token/,
    ],
    [{ auth: { clients: [client({ token_sha256: undefined })] } }, /client billing has no credential/],
    [
      { auth: { clients: [client({ token_sha256: undefined, cert_subject: 'CN=billing' })] } },
      /cert_subject and cert_san need \[server\.tls\] ca/,
    ],
    [
      { auth: { allow_anonymous: true, clients: [client()] } },
      /auth\.allow_anonymous: anonymous callers are allowed only when no/,
    ],
    [
      { server: { headers_timeout_ms: 20_000, receive_timeout_ms: 10_000 } },
      /server\.headers_timeout_ms: 20000 is longer than/,
    ],
    [{ server: { allowed_hosts: ['has space'] } }, /server\.allowed_hosts\.0: must be a host name/],
    [{ server: { tls: { cert: 'c.pem' } } }, /server\.tls\.key: is required/],
    [{ rate_limit: { creates_per_minute: -1 } }, /rate_limit\.creates_per_minute/],
  ])('refuses %j', (extra, message) => {
    expect(() => parse(extra)).toThrow(ConfigError);
    expect(() => parse(extra)).toThrow(message);
  });
});

describe('listening beyond this machine', () => {
  it('is refused without clients, unless allow_anonymous says so', () => {
    expect(() => {
      checkExposure(parse({ server: { host: '0.0.0.0' } }));
    }).toThrow(/no \[\[auth\.clients\]\] are declared.*set \[auth\] allow_anonymous = true/);
    expect(() => {
      checkExposure(parse({ server: { host: '0.0.0.0' }, auth: { allow_anonymous: true } }));
    }).not.toThrow();
    expect(() => {
      checkExposure(parse({ server: { host: '0.0.0.0' }, auth: { clients: [client()] } }));
    }).not.toThrow();
    for (const host of ['127.0.0.1', 'localhost', '::1']) {
      expect(() => {
        checkExposure(parse({ server: { host } }));
      }).not.toThrow();
    }
  });

  it('covers the gRPC port: [grpc] host, or the [server] host it defaults to', () => {
    expect(() => {
      checkExposure(parse({ server: { host: '127.0.0.1' }, grpc: { port: 9090, host: '0.0.0.0' } }));
    }).toThrow(
      /^grpc\.host: RKMS listens on 0\.0\.0\.0, beyond this machine, and no \[\[auth\.clients\]\] are declared, so anyone who reaches the gRPC port could/,
    );
    expect(() => {
      checkExposure(parse({ server: { host: '0.0.0.0' }, grpc: { port: 9090 } }));
    }).toThrow(/^server\.host: /);
    // The gRPC host counts only where gRPC listens.
    expect(() => {
      checkExposure(parse({ server: { host: '127.0.0.1' }, grpc: { host: '0.0.0.0' } }));
    }).not.toThrow();
    expect(() => {
      checkExposure(parse({ server: { host: '::1' }, grpc: { port: 9090, host: 'localhost' } }));
    }).not.toThrow();
    for (const auth of [{ allow_anonymous: true }, { clients: [client()] }]) {
      expect(() => {
        checkExposure(parse({ grpc: { port: 9090, host: '0.0.0.0' }, auth }));
      }).not.toThrow();
    }
  });
});
