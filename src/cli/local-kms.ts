import { Command, InvalidArgumentError, Option } from 'commander';
import { pino, type Level } from 'pino';
import {
  startLocalKms,
  StoreLockedError,
  type FaultsByRegion,
  type LocalKms,
  type RegionFaults,
} from '../localkms/index.js';
import { DEFAULT_ACCOUNT_ID, isAccountId, isRegionName } from '../localkms/names.js';
import { stopOnSignals } from './signals.js';

export const PASSPHRASE_ENV = 'RKMS_LOCAL_KMS_PASSPHRASE';
export const DEFAULT_LOCAL_KMS_PORT = 4599;
/** Closing writes the store and drops connections: quick, but bounded all the same. */
const STOP_BOUND_MS = 10_000;

interface CliOptions {
  host: string;
  allowedHost?: string[];
  port: number;
  regions: string[];
  regionPort?: [string, number][];
  accountId: string;
  data?: string;
  passphrase?: string;
  seed?: string;
  fault?: [string, RegionFaults][];
  accessKey?: [string, string][];
  logLevel: Level;
}

/** `rkms local-kms`: runs the local AWS KMS on its own, until SIGINT or SIGTERM. */
export function localKmsCommand(): Command {
  return new Command('local-kms')
    .description('Run a local AWS KMS: several regions on one port, persistence, fault injection')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option(
      '--allowed-host <name>',
      'a Host name answered besides loopback ones, e.g. kms.test or *.test (repeatable)',
      collect((value: string) => value),
    )
    .option(
      '--port <port>',
      'port serving every region (0 = any free port)',
      parsePort,
      DEFAULT_LOCAL_KMS_PORT,
    )
    .addOption(
      new Option('--regions <list>', 'comma-separated regions to serve')
        .argParser(parseRegions)
        .default(['us-east-1'], 'us-east-1'),
    )
    .option(
      '--region-port <region=port>',
      'extra listener for one region, e.g. us-west-2=4600 (repeatable)',
      collect(parseRegionPort),
    )
    .option('--account-id <id>', '12-digit account id in key ARNs', parseAccountId, DEFAULT_ACCOUNT_ID)
    .option('--data <dir>', 'directory of the persistent store (in memory when omitted)')
    .addOption(new Option('--passphrase <passphrase>', 'encrypts the store on disk').env(PASSPHRASE_ENV))
    .option('--seed <file>', 'JSON or TOML file of keys and aliases to create at start')
    .option(
      '--fault <region:mode[=ms][@probability]>',
      'fault from the start, e.g. us-east-1:down, us-west-1:latency=500@0.5 (repeatable)',
      collect(parseFault),
    )
    .option(
      '--access-key <id:secret>',
      'check SigV4 signatures against this access key (repeatable)',
      collect(parseAccessKey),
    )
    .addOption(
      new Option(
        '--log-level <level>',
        'log level (logs are JSON lines on stdout; the banner goes to stderr)',
      )
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
        .default('info'),
    )
    .addHelpText(
      'after',
      `
Modes of --fault: down (connections dropped), latency=<ms>, throttle (ThrottlingException),
error (KMSInternalException). Change faults at run time with the admin endpoint:
  curl -X PUT http://127.0.0.1:${DEFAULT_LOCAL_KMS_PORT}/admin/faults/us-east-1 -d '{"down":{}}'
  curl -X DELETE http://127.0.0.1:${DEFAULT_LOCAL_KMS_PORT}/admin/faults
  curl http://127.0.0.1:${DEFAULT_LOCAL_KMS_PORT}/admin/counters
The passphrase can also come from ${PASSPHRASE_ENV}.`,
    )
    .action(async (options: CliOptions, command: Command) => {
      if (options.passphrase !== undefined && options.data === undefined) {
        command.error('error: --passphrase encrypts the store on disk; it needs --data <dir>');
      }
      const logger = pino({ level: options.logLevel });
      let kms: LocalKms;
      try {
        kms = await startLocalKms({
          host: options.host,
          ...(options.allowedHost ? { allowedHosts: options.allowedHost } : {}),
          port: options.port,
          regions: options.regions,
          regionPorts: Object.fromEntries(options.regionPort ?? []),
          accountId: options.accountId,
          ...(options.data !== undefined ? { dataDir: options.data } : {}),
          ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}),
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
          faults: mergedFaults(options.fault ?? []),
          ...(options.accessKey ? { accessKeys: Object.fromEntries(options.accessKey) } : {}),
          logger,
        });
      } catch (error) {
        command.error(`error: the local KMS did not start: ${startFailure(error)}`);
      }
      stopOnSignals(
        async () => {
          await kms.close();
          process.stderr.write('local KMS stopped\n');
        },
        STOP_BOUND_MS,
        logger,
      );
      process.stderr.write(banner(kms));
    });
}

/** What the user does about a failed start; a locked store names this command's flag. */
function startFailure(error: unknown): string {
  if (error instanceof StoreLockedError && error.holder !== undefined) {
    return (
      `${error.dir} is in use by ${error.holder}; stop it or give another --data directory ` +
      `(if no local KMS uses it, delete ${error.lockPath})`
    );
  }
  return error instanceof Error ? error.message : String(error);
}

function banner(kms: LocalKms): string {
  const encrypted = kms.storeEncrypted ? ' (encrypted with the passphrase)' : '';
  const data =
    kms.dataDir === undefined ? 'in memory (keys are lost when it stops)' : `${kms.dataDir}${encrypted}`;
  const lines = [
    `RKMS local KMS listening on ${kms.url}`,
    `  regions:  ${kms.regions.join(', ')}`,
    ...Object.entries(kms.regionUrls).map(([region, url]) => `  ${region} only: ${url}`),
    `  account:  ${kms.accountId}`,
    `  data:     ${data}`,
    `  admin:    ${kms.url}/admin/counters, ${kms.url}/admin/faults (loopback clients only)`,
  ];
  if (kms.dataDir !== undefined && !kms.storeEncrypted) {
    lines.push(
      `WARNING: key material is stored UNPROTECTED in ${kms.dataDir}; ` +
        `set ${PASSPHRASE_ENV} or --passphrase to encrypt it.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function mergedFaults(faults: [string, RegionFaults][]): FaultsByRegion {
  const merged: FaultsByRegion = {};
  for (const [region, fault] of faults) merged[region] = { ...merged[region], ...fault };
  return merged;
}

function collect<T>(parse: (value: string) => T) {
  return (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(value)];
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('expected a port number 0–65535.');
  return port;
}

function parseRegions(value: string): string[] {
  const regions = value
    .split(',')
    .map((region) => region.trim())
    .filter((region) => region !== '');
  if (regions.length === 0)
    throw new InvalidArgumentError('give at least one region, e.g. us-east-1,us-west-2.');
  const bad = regions.find((region) => !isRegionName(region));
  if (bad !== undefined) throw new InvalidArgumentError(`'${bad}' is not a region name like us-east-1.`);
  return regions;
}

function parseRegionPort(value: string): [string, number] {
  const [region = '', port = ''] = value.split('=');
  if (!isRegionName(region)) throw new InvalidArgumentError('expected <region>=<port>, e.g. us-west-2=4600.');
  return [region, parsePort(port)];
}

function parseAccountId(value: string): string {
  if (!isAccountId(value)) throw new InvalidArgumentError('expected 12 digits, e.g. 111122223333.');
  return value;
}

function parseAccessKey(value: string): [string, string] {
  const colon = value.indexOf(':');
  if (colon < 1 || colon === value.length - 1)
    throw new InvalidArgumentError('expected <accessKeyId>:<secretAccessKey>.');
  return [value.slice(0, colon), value.slice(colon + 1)];
}

const FAULT_SPEC = /^([a-z0-9-]+):(down|latency|throttle|error)(?:=(\d+))?(?:@([0-9.]+))?$/;

function parseFault(value: string): [string, RegionFaults] {
  const match = FAULT_SPEC.exec(value);
  const usage =
    'expected <region>:<mode>[=<ms>][@<probability>], mode down, latency=<ms>, throttle or error, ' +
    'e.g. us-east-1:latency=500@0.5.';
  if (!match) throw new InvalidArgumentError(usage);
  const [, region = '', mode, ms, probabilityText] = match;
  if (!isRegionName(region))
    throw new InvalidArgumentError(`'${region}' is not a region name like us-east-1.`);
  const probability = probabilityText === undefined ? undefined : Number(probabilityText);
  if (probability !== undefined && !(probability >= 0 && probability <= 1))
    throw new InvalidArgumentError('probability must be between 0 and 1.');
  const rule = probability === undefined ? {} : { probability };
  if (mode === 'latency') {
    if (ms === undefined)
      throw new InvalidArgumentError('latency needs milliseconds, e.g. us-east-1:latency=500.');
    return [region, { latency: { ms: Number(ms), ...rule } }];
  }
  if (ms !== undefined) throw new InvalidArgumentError(`${mode} takes no =<ms>. ${usage}`);
  return [region, { [mode as 'down' | 'throttle' | 'error']: rule }];
}
