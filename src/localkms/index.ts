import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { hostPolicyFor } from '../shared/hosts.js';
import { handleAdmin, isAdminPath } from './admin.js';
import { CallCounter, type CallCounters } from './counters.js';
import { FaultTable, type Faults } from './faults.js';
import { refuseForeignHost } from './host-check.js';
import { createKmsHandler } from './kms-handler.js';
import { KeyStore } from './keystore.js';
import { Listener } from './listeners.js';
import { localKmsLogger } from './logging.js';
import { resolveOptions, type LocalKmsOptions, type ResolvedOptions } from './options.js';
import { applySeed, loadSeedFile, validSeed, type SeedSpec } from './seed.js';
import { restoreInto, snapshotOf } from './store-codec.js';
import { StoreFile } from './store-file.js';

export type { CallCounters } from './counters.js';
export {
  FaultError,
  type FaultMode,
  type FaultRule,
  type Faults,
  type FaultsByRegion,
  type LatencyRule,
  type RegionFaults,
} from './faults.js';
export { LocalKmsConfigError, type LocalKmsOptions } from './options.js';
export { loadSeedFile, parseSeed, SeedError, type SeedKey, type SeedSpec } from './seed.js';
export { StoreFormatError, WrongPassphraseError } from './store-codec.js';
export { StoreLockedError } from './store-file.js';

export interface LocalKms {
  /** URL of the shared listener, which serves every region, e.g. http://127.0.0.1:43123. */
  readonly url: string;
  readonly port: number;
  readonly regions: readonly string[];
  readonly accountId: string;
  /** URL of each per-region listener (regionPorts); a region without one is absent. */
  readonly regionUrls: Readonly<Record<string, string>>;
  /** Where the store lives, or undefined in memory. */
  readonly dataDir: string | undefined;
  /** Whether the store on disk is encrypted with a passphrase. */
  readonly storeEncrypted: boolean;
  /** Faults in force; changing them here has the same effect as the admin endpoint. */
  readonly faults: Faults;
  /** Calls received so far, by region then operation. */
  counters(): CallCounters;
  resetCounters(): void;
  /** Stops listening, closes open connections, writes the store; resolves when all is done. */
  close(): Promise<void>;
}

const MAINTENANCE_INTERVAL_MS = 60_000;

/** Starts a local AWS KMS: every region on one port, optional per-region ports, an admin endpoint under /admin. */
export async function startLocalKms(options: LocalKmsOptions): Promise<LocalKms> {
  const config = resolveOptions(options);
  const logger = localKmsLogger(options.logger);
  const store = new KeyStore(config.accountId, config.clock);
  const storeFile = config.dataDir === undefined ? undefined : await openStore(config, store, logger);
  const persist = storeFile ? () => storeFile.save(() => snapshotOf(store)) : () => Promise.resolve();
  const lifetime = new AbortController();
  const listeners: Listener[] = [];
  const stop = async () => {
    lifetime.abort();
    await Promise.all(listeners.map((listener) => listener.stop()));
    await storeFile?.close();
  };
  try {
    await prepareStore(store, options.seed, config, persist);
    const faults = new FaultTable(config.regions, config.random);
    for (const [region, regionFaults] of Object.entries(options.faults ?? {}))
      faults.set(region, regionFaults);
    const counter = new CallCounter();
    const handleKmsCall = createKmsHandler({
      store,
      regions: config.regions,
      faults,
      counter,
      persist,
      accessKeys: config.accessKeys,
      logger,
      lifetime: lifetime.signal,
    });
    const route = router(config, logger, (req, res, portRegion) =>
      isAdminPath(req.url) ? handleAdmin(req, res, { faults, counter }) : handleKmsCall(req, res, portRegion),
    );
    const { shared, byRegion } = await startListeners(config, route, faults, logger, listeners);
    const maintenance = startMaintenance(store, persist, logger);
    const url = urlOf(config.host, shared.port);
    logger.info(
      { url, regions: config.regions, accountId: config.accountId, dataDir: config.dataDir ?? null },
      'local KMS started',
    );
    let closing: Promise<void> | undefined;
    return {
      url,
      port: shared.port,
      regions: config.regions,
      accountId: config.accountId,
      regionUrls: Object.fromEntries(
        [...byRegion].map(([region, listener]) => [region, urlOf(config.host, listener.port)]),
      ),
      dataDir: config.dataDir,
      storeEncrypted: storeFile?.isProtected ?? false,
      faults,
      counters: () => counter.snapshot(),
      resetCounters: () => {
        counter.reset();
      },
      close: () => {
        closing ??= (async () => {
          clearInterval(maintenance);
          await stop();
          logger.info('local KMS stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse, portRegion: string | undefined) => Promise<void>;

/**
 * The request handler of a listener (`portRegion` for a region's own port): the Host check
 * first, then `handle`; a request that fails unexpectedly is logged and its connection closed.
 */
function router(config: ResolvedOptions, logger: Logger, handle: Handler) {
  const hostPolicy = hostPolicyFor(config.host, config.allowedHosts);
  return (portRegion: string | undefined) => (req: IncomingMessage, res: ServerResponse) => {
    if (refuseForeignHost(req, res, hostPolicy, isAdminPath(req.url))) return;
    handle(req, res, portRegion).catch((error: unknown) => {
      logger.error({ err: error }, 'local KMS request failed');
      res.destroy();
    });
  };
}

/**
 * The shared listener, then one per `regionPorts` entry, each added to `listeners` as it
 * is made (so that a failure stops those already started). A region's own port closes
 * while a fault takes the whole region down, and opens again when it is lifted.
 */
async function startListeners(
  config: ResolvedOptions,
  route: ReturnType<typeof router>,
  faults: FaultTable,
  logger: Logger,
  listeners: Listener[],
): Promise<{ shared: Listener; byRegion: Map<string, Listener> }> {
  const shared = new Listener(config.host, config.port, route(undefined));
  listeners.push(shared);
  await shared.start();
  const byRegion = new Map<string, Listener>();
  for (const [region, port] of config.regionPorts) {
    const listener = new Listener(config.host, port, route(region));
    listeners.push(listener);
    byRegion.set(region, listener);
    if (!faults.isWhollyDown(region)) await listener.start();
  }
  faults.onChange((region) => {
    const listener = byRegion.get(region);
    if (!listener) return;
    const change = faults.isWhollyDown(region) ? listener.stop() : listener.start();
    change.catch((error: unknown) => {
      logger.error({ err: error, region }, 'could not change the region listener');
    });
  });
  return { shared, byRegion };
}

/**
 * Removes keys past their deletion date and rotates keys that are due, every minute, without
 * keeping the process alive.
 */
function startMaintenance(store: KeyStore, persist: () => Promise<void>, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    if (store.maintain())
      persist().catch((error: unknown) => {
        logger.error({ err: error }, 'could not write the key store');
      });
  }, MAINTENANCE_INTERVAL_MS);
  timer.unref();
  return timer;
}

async function openStore(config: ResolvedOptions, store: KeyStore, logger: Logger): Promise<StoreFile> {
  const dataDir = config.dataDir ?? '';
  const { file, snapshot, wasUnprotected } = await StoreFile.open(dataDir, config.passphrase);
  try {
    if (snapshot) {
      if (snapshot.accountId !== store.accountId) {
        throw new Error(
          `${file.path} holds the keys of account ${snapshot.accountId}: start with that account id, ` +
            `or use another data directory`,
        );
      }
      restoreInto(store, snapshot);
      const unserved = Object.keys(snapshot.regions).filter((region) => !config.regions.includes(region));
      if (unserved.length > 0)
        logger.warn({ regions: unserved }, 'the store has keys in regions not served now; they are kept');
    }
    if (wasUnprotected && file.isProtected) {
      logger.warn(
        { path: file.path },
        'the store was unprotected; it is encrypted with the passphrase from now on',
      );
      await file.save(() => snapshotOf(store));
    }
    // A new store is written at once, so its account and passphrase bind the directory before the first key.
    if (!snapshot) await file.save(() => snapshotOf(store));
    if (!file.isProtected) {
      logger.warn(
        { path: file.path },
        'key material is stored UNPROTECTED on disk; give a passphrase to encrypt it',
      );
    }
    return file;
  } catch (error) {
    await file.close();
    throw error;
  }
}

/** Seeds, and removes keys whose deletion date passed while the server was down, before the first call. */
async function prepareStore(
  store: KeyStore,
  seed: SeedSpec | string | undefined,
  config: ResolvedOptions,
  persist: () => Promise<void>,
): Promise<void> {
  let changed = store.maintain();
  if (seed !== undefined) {
    const spec = typeof seed === 'string' ? await loadSeedFile(seed) : validSeed(seed, 'the seed option');
    changed = (await applySeed(store, spec, config.regions)) || changed;
  }
  if (changed) await persist();
}

function urlOf(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
