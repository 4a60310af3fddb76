import { isIPv4, isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../resilience/clock.js';
import type { Client } from './clients.js';
import { TooManyRequestsError, type RateLimitKind } from './errors.js';
import type { SecurityEvents } from './events.js';

export interface RateLimitSettings {
  requests_per_minute: number;
  creates_per_minute: number;
}

/** Who a call is counted against: a declared client by its name, anyone else by the address it calls from. */
export interface Caller {
  /** The authenticated client; undefined before (or without) authentication. */
  client: Client | undefined;
  /** The caller's IP address, without a port. */
  address: string;
}

const WINDOW_MS = 60_000;
/**
 * Counters kept at most (requests and creates, every caller, both transports): the least
 * recently counted go first, so a flood of addresses costs bounded memory. It is what the
 * two counter stores of @fastify/rate-limit held together before HTTP and gRPC shared one.
 */
const CAPACITY = 10_000;

interface Window {
  count: number;
  startedAt: number;
}

/**
 * Per-minute limits, one budget per caller whichever transport it uses (HTTP or gRPC): one
 * counter for what it asks (`requests`) and one for the keys it makes (`creates`, the
 * costly path: three KMS calls and a write each). Declared clients count by name;
 * anonymous and unauthenticated callers by address (an IPv6 /64 is one address). A
 * client's own `requests_per_minute`/`creates_per_minute` wins over `[rate_limit]`; 0 is
 * no limit. Fixed windows that start at a caller's first call; counts are per replica.
 */
export class RateLimiter {
  private readonly windows = new LRUCache<string, Window>({ max: CAPACITY });

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly events: SecurityEvents,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Counts one call against the caller's `kind` budget; TooManyRequestsError once it is spent. */
  check({ client, address }: Caller, kind: RateLimitKind): void {
    const limit = this.perMinute(client, kind);
    if (limit === 0) return;
    const key = `${kind} ${client && !client.anonymous ? `client:${client.name}` : `address:${addressKey(address)}`}`;
    const now = this.clock();
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= WINDOW_MS) {
      window = { count: 0, startedAt: now };
      this.windows.set(key, window);
    }
    window.count++;
    if (window.count <= limit) return;
    this.events.emit({ type: 'rate_limited', client: client?.name ?? 'unauthenticated', limit: kind });
    const retryAfterSeconds = Math.max(1, Math.ceil((window.startedAt + WINDOW_MS - now) / 1000));
    throw new TooManyRequestsError(kind, limit, retryAfterSeconds);
  }

  private perMinute(client: Client | undefined, kind: RateLimitKind): number {
    return kind === 'creates'
      ? (client?.createsPerMinute ?? this.settings.creates_per_minute)
      : (client?.requestsPerMinute ?? this.settings.requests_per_minute);
  }
}

/**
 * The address a caller is counted by: an IPv4 address as it is (an IPv4-mapped IPv6
 * address too), an IPv6 address by its /64, which one host commonly holds in full.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined && isIPv4(mapped)) return mapped;
  if (!isIPv6(address)) return address.toLowerCase();
  const [head = '', tail] = address.toLowerCase().replace(/%.*$/, '').split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  // A dotted quad at the end (64:ff9b::1.2.3.4) takes the room of two groups.
  const width = (part: string[]) => part.reduce((sum, group) => sum + (group.includes('.') ? 2 : 1), 0);
  const [left, right] = [groups(head), groups(tail)];
  const zeros = tail === undefined ? [] : Array<string>(8 - width(left) - width(right)).fill('0');
  const network = [...left, ...zeros, ...right]
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16));
  return `${network.join(':')}::/64`;
}
