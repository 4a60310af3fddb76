import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

const minimal = { kms: { regions: ['us-east-1'] }, dynamodb: { region: 'us-east-1' } };
const load = (grpc?: Record<string, unknown>) =>
  parseConfig(grpc ? { ...minimal, grpc } : minimal, { baseDir: '/' }).grpc;

describe('[grpc]', () => {
  it('is off unless a port is set', () => {
    expect(load()).toEqual({
      shutdown_timeout_ms: 5_000,
      max_concurrent_streams: 100,
      max_connection_age_ms: 300_000,
      keepalive_time_ms: 30_000,
      keepalive_timeout_ms: 10_000,
    });
  });

  it('takes a port as a number or a string, a host, and a shutdown timeout', () => {
    expect(load({ port: '9090', host: '0.0.0.0', shutdown_timeout_ms: 1_000 })).toMatchObject({
      port: 9090,
      host: '0.0.0.0',
      shutdown_timeout_ms: 1_000,
    });
    expect(load({ port: 0 }).port).toBe(0);
  });

  it('takes the limits only HTTP/2 has', () => {
    expect(
      load({
        max_concurrent_streams: 10,
        max_connection_age_ms: 0,
        keepalive_time_ms: 0,
        keepalive_timeout_ms: 500,
      }),
    ).toMatchObject({
      max_concurrent_streams: 10,
      max_connection_age_ms: 0,
      keepalive_time_ms: 0,
      keepalive_timeout_ms: 500,
    });
  });

  it.each([
    [{ port: 70_000 }, /grpc\.port: must be <= 65535 \(got 70000\)/],
    [{ max_concurrent_streams: 0 }, /grpc\.max_concurrent_streams: must be >= 1/],
    [{ keepalive_timeout_ms: 10 }, /grpc\.keepalive_timeout_ms: must be >= 100/],
    [{ port: 9090, prot: 1 }, /grpc\.prot: unknown setting/],
    [{ host: '' }, /grpc\.host: /],
  ])('names the field that is wrong: %j', (grpc, message) => {
    expect(() => load(grpc)).toThrow(message);
  });
});
