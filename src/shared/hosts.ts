import { isIP } from 'node:net';

/**
 * Which names a server answers to, against DNS rebinding: a web page whose name an
 * attacker points at 127.0.0.1 makes the browser send its own name in Host, never ours.
 * Used by RKMS and by the local KMS (no HTTP framework here).
 */
export interface HostPolicy {
  /** Whether the server listens on loopback only: then only loopback names and addresses (and `allowed`). */
  readonly loopback: boolean;
  /** Names accepted besides: exact, or `*.domain` for its subdomains. Lowercase, no trailing dot. */
  readonly allowed: readonly string[];
}

/** The policy for a listening address, or undefined when any Host is accepted (not loopback, no allowed_hosts). */
export function hostPolicyFor(
  listenHost: string,
  allowedHosts: readonly string[] | undefined,
): HostPolicy | undefined {
  const loopback = isLoopbackName(listenHost);
  if (!loopback && allowedHosts === undefined) return undefined;
  return { loopback, allowed: (allowedHosts ?? []).map(normalizeName) };
}

/** `localhost`, a `.localhost` name, 127.0.0.0/8, ::1 (bracketed or not, IPv4-mapped too). */
export function isLoopbackName(host: string): boolean {
  const name = normalizeName(host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(name)?.[1];
    if (mapped) return mapped.startsWith('127.');
    return expandIpv6(name) === '0000:0000:0000:0000:0000:0000:0000:0001';
  }
  return false;
}

/**
 * Whether a Host header is acceptable under the policy. A missing header is not. On a
 * non-loopback listener any IP address is accepted besides the allowed names: rebinding
 * needs a name, and probes (a kubelet's) name the pod by its address.
 */
export function hostAllowed(header: string | undefined, policy: HostPolicy): boolean {
  const name = hostnameOf(header);
  if (name === undefined) return false;
  if (isLoopbackName(name)) return true;
  if (!policy.loopback && isIP(name) !== 0) return true;
  return policy.allowed.some((allowed) =>
    allowed.startsWith('*.')
      ? name.endsWith(allowed.slice(1)) && name.length > allowed.length - 1
      : name === allowed,
  );
}

/** The name part of a Host header (`name`, `name:port`, `[v6]:port`), lowercase; undefined when malformed. */
export function hostnameOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(header.trim());
  const host = match?.[1];
  if (host === undefined) return undefined;
  return normalizeName(host.startsWith('[') ? host.slice(1, -1) : host);
}

function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function expandIpv6(address: string): string {
  const [head = '', tail = ''] = address.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const missing = 8 - headParts.length - tailParts.length;
  return [...headParts, ...Array<string>(Math.max(missing, 0)).fill('0'), ...tailParts]
    .map((part) => part.padStart(4, '0'))
    .join(':');
}
