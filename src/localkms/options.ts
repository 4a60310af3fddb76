import type { Logger } from 'pino';
import type { FaultsByRegion } from './faults.js';
import { DEFAULT_ACCOUNT_ID, isAccountId, isRegionName } from './names.js';
import type { SeedSpec } from './seed.js';

export interface LocalKmsOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /**
   * Host names answered besides loopback ones (exact, or `*.domain`). On loopback only
   * loopback names are answered unless listed here; on another interface, any name is
   * answered unless this is set.
   */
  allowedHosts?: string[];
  /** Port of the shared listener, which serves every region; 0 (the default) picks a free port. */
  port?: number;
  /** Regions served, at least one. A call signed for another region fails with InvalidSignatureException. */
  regions: string[];
  /** Extra listeners, one region each (the port decides the region); 0 picks a free port. */
  regionPorts?: Record<string, number>;
  /** 12 digits; default 111122223333. Key ARNs carry it. */
  accountId?: string;
  /** Directory of the persistent store; in memory when omitted. */
  dataDir?: string;
  /** Encrypts the store on disk (scrypt, AES-256-GCM). Only meaningful with dataDir. */
  passphrase?: string;
  /** Keys and aliases to create at start: a parsed seed, or the path of a JSON or TOML seed file. */
  seed?: SeedSpec | string;
  /** Faults in force from the start, by region. */
  faults?: FaultsByRegion;
  /** accessKeyId → secretAccessKey. When set, every call must carry a valid SigV4 signature by one of them. */
  accessKeys?: Record<string, string>;
  /** Receives the local KMS's logs (a child with key material redacted); silent when omitted. */
  logger?: Logger;
  /** Milliseconds since the epoch; lets a test move past a deletion window. Default Date.now. */
  clock?: () => number;
  /** Source of randomness for fault probabilities, in [0, 1). Default Math.random. */
  random?: () => number;
}

export interface ResolvedOptions {
  readonly host: string;
  readonly allowedHosts: readonly string[] | undefined;
  readonly port: number;
  readonly regions: readonly string[];
  readonly regionPorts: ReadonlyMap<string, number>;
  readonly accountId: string;
  readonly dataDir: string | undefined;
  readonly passphrase: string | undefined;
  readonly accessKeys: ReadonlyMap<string, string> | undefined;
  readonly clock: () => number;
  readonly random: () => number;
}

export class LocalKmsConfigError extends Error {}

/** Checks the options and fills in defaults; throws LocalKmsConfigError with what to fix. */
export function resolveOptions(options: LocalKmsOptions): ResolvedOptions {
  // Callers from JavaScript can omit `regions`; they get the message below, not a TypeError.
  const regions = [...new Set(Array.isArray(options.regions) ? options.regions : [])];
  if (regions.length === 0)
    throw new LocalKmsConfigError('regions: give at least one region, e.g. us-east-1');
  for (const region of regions) {
    if (!isRegionName(region))
      throw new LocalKmsConfigError(`regions: '${region}' is not a region name like us-east-1`);
  }
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  if (!isAccountId(accountId)) throw new LocalKmsConfigError(`accountId: '${accountId}' is not 12 digits`);
  const port = checkedPort(options.port ?? 0, 'port');
  const regionPorts = new Map<string, number>();
  for (const [region, regionPort] of Object.entries(options.regionPorts ?? {})) {
    if (!regions.includes(region))
      throw new LocalKmsConfigError(
        `regionPorts: ${region} is not one of the regions (${regions.join(', ')})`,
      );
    regionPorts.set(region, checkedPort(regionPort, `regionPorts.${region}`));
  }
  const fixedPorts = [port, ...regionPorts.values()].filter((p) => p !== 0);
  if (new Set(fixedPorts).size !== fixedPorts.length)
    throw new LocalKmsConfigError('port and regionPorts must all differ');
  if (options.passphrase?.length === 0) {
    throw new LocalKmsConfigError('passphrase: must not be empty');
  }
  const accessKeys =
    options.accessKeys === undefined ? undefined : new Map(Object.entries(options.accessKeys));
  if (accessKeys?.size === 0)
    throw new LocalKmsConfigError('accessKeys: give at least one, or omit it to turn signature checks off');
  return {
    host: options.host ?? '127.0.0.1',
    allowedHosts: options.allowedHosts,
    port,
    regions,
    regionPorts,
    accountId,
    dataDir: options.dataDir,
    passphrase: options.passphrase,
    accessKeys,
    clock: options.clock ?? Date.now,
    random: options.random ?? Math.random,
  };
}

function checkedPort(port: number, name: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new LocalKmsConfigError(`${name}: ${port} is not a port (0–65535)`);
  return port;
}
