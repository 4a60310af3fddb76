import { describe, expect, it } from 'vitest';
import { ClientRegistry, type Client } from '../../src/auth/clients.js';
import { TooManyRequestsError, type RateLimitKind } from '../../src/auth/errors.js';
import { SecurityEvents, type SecurityEvent } from '../../src/auth/events.js';
import { addressKey, RateLimiter, type Caller } from '../../src/auth/rate-limiter.js';
import { tokenSha256 } from '../../src/auth/token.js';

const registry = new ClientRegistry({
  allow_anonymous: false,
  clients: [
    { name: 'app', token_sha256: tokenSha256('app-token'), ids: ['*'], actions: ['get', 'create'] },
    {
      name: 'bulk',
      token_sha256: tokenSha256('bulk-token'),
      ids: ['*'],
      actions: ['get', 'create'],
      requests_per_minute: 0,
      creates_per_minute: 5,
    },
  ],
});

function clientOf(token: string): Client {
  const authentication = registry.authenticate({ authorization: `Bearer ${token}` });
  if (!authentication.ok) throw new Error('no such client');
  return authentication.client;
}

function limiter(settings = { requests_per_minute: 3, creates_per_minute: 2 }) {
  const clock = { now: 1_000_000 };
  const events: SecurityEvent[] = [];
  const bus = new SecurityEvents();
  bus.subscribe((event) => events.push(event));
  return { limiter: new RateLimiter(settings, bus, () => clock.now), clock, events };
}

/** The calls allowed (true) and refused (false), in order. */
function run(limits: RateLimiter, caller: Caller, kind: RateLimitKind, times: number): boolean[] {
  return Array.from({ length: times }, () => {
    try {
      limits.check(caller, kind);
      return true;
    } catch (err) {
      if (!(err instanceof TooManyRequestsError)) throw err;
      return false;
    }
  });
}

describe('RateLimiter', () => {
  it('allows requests_per_minute calls per client in a window that starts at its first call, then refuses until it ends', () => {
    const { limiter: limits, clock, events } = limiter();
    const app = { client: clientOf('app-token'), address: '10.0.0.1' };
    expect(run(limits, app, 'requests', 5)).toEqual([true, true, true, false, false]);
    clock.now += 20_500;
    let refusal: unknown;
    try {
      limits.check(app, 'requests');
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(TooManyRequestsError);
    expect(refusal).toMatchObject({
      limit: 'requests',
      perMinute: 3,
      retryAfterSeconds: 40,
      message: 'over the limit of 3 requests per minute; retry after 40 s',
    });
    expect(events).toContainEqual({ type: 'rate_limited', client: 'app', limit: 'requests' });
    clock.now += 39_500;
    expect(run(limits, app, 'requests', 4)).toEqual([true, true, true, false]);
  });

  it('counts a client by name from any address, and anyone else by address', () => {
    const { limiter: limits } = limiter();
    const app = clientOf('app-token');
    expect(run(limits, { client: app, address: '10.0.0.1' }, 'requests', 2)).toEqual([true, true]);
    expect(run(limits, { client: app, address: '10.0.0.2' }, 'requests', 2)).toEqual([true, false]);
    const nobody = { client: undefined, address: '10.0.0.1' };
    expect(run(limits, nobody, 'requests', 4)).toEqual([true, true, true, false]);
    expect(run(limits, { client: undefined, address: '10.0.0.3' }, 'requests', 1)).toEqual([true]);
  });

  it('keeps creations apart from requests, and takes a client’s own limits over [rate_limit] (0: none)', () => {
    const { limiter: limits, events } = limiter();
    const bulk = { client: clientOf('bulk-token'), address: '10.0.0.1' };
    expect(run(limits, bulk, 'requests', 50).every(Boolean)).toBe(true);
    expect(run(limits, bulk, 'creates', 6)).toEqual([true, true, true, true, true, false]);
    const app = { client: clientOf('app-token'), address: '10.0.0.1' };
    expect(run(limits, app, 'creates', 3)).toEqual([true, true, false]);
    expect(run(limits, app, 'requests', 3)).toEqual([true, true, true]);
    expect(events).toEqual([
      { type: 'rate_limited', client: 'bulk', limit: 'creates' },
      { type: 'rate_limited', client: 'app', limit: 'creates' },
    ]);
  });

  it('counts every address of an IPv6 /64 as one, and an IPv4-mapped address as its IPv4 address', () => {
    const { limiter: limits } = limiter();
    const from = (address: string, times: number) =>
      run(limits, { client: undefined, address }, 'requests', times);
    expect(from('2001:db8:1:2::1', 1)).toEqual([true]);
    expect(from('2001:db8:1:2:ffff::9', 1)).toEqual([true]);
    expect(from('2001:0db8:0001:0002:0:0:0:abcd', 2)).toEqual([true, false]);
    expect(from('2001:db8:1:3::1', 1)).toEqual([true]);
    expect(from('::ffff:192.0.2.7', 2)).toEqual([true, true]);
    expect(from('192.0.2.7', 2)).toEqual([true, false]);
    expect(addressKey('fe80::1%eth0')).toBe(addressKey('fe80::2'));
    expect(addressKey('64:ff9b::192.0.2.1')).toBe(addressKey('64:ff9b::1'));
  });
});
