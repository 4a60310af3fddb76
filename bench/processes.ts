/**
 * The parts a benchmark runs, each in a process of its own as in production: the local KMS,
 * dynalite, RKMS replicas and the bare Fastify baseline. The load generator (autocannon, in
 * the bench's own process) then shares no event loop with what it measures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { parse, stringify } from 'smol-toml';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const REGIONS = ['us-east-1', 'us-east-2', 'us-west-1'] as const;
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'rkms-bench',
  AWS_SECRET_ACCESS_KEY: 'rkms-bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export interface Part {
  /** The address it printed when it started listening. */
  url: string;
  child: ChildProcess;
  /** Resident set size now, in MiB, from /proc. */
  rssMb(): Promise<number>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Kills whatever is still running (a failed scenario's parts), so the bench never leaves processes. */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

function start(
  name: string,
  dir: string,
  args: string[],
  banner: RegExp,
  env: NodeJS.ProcessEnv = {},
): Promise<Part> {
  // Output goes to a file, as a container runtime takes it from a pipe, so that neither
  // keeping nor draining tens of thousands of log lines a second costs the load generator.
  const log = path.join(dir, `${name}.log`);
  const out = openSync(log, 'w');
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...CREDENTIALS, ...env },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.on('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const state = { ended: false };
  void exited.then(() => (state.ended = true));
  const part: Omit<Part, 'url'> = {
    child,
    rssMb: () => rssMb(child.pid),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
  return (async () => {
    for (let waited = 0; waited < 60_000; waited += 50) {
      const text = await readFile(log, 'utf8');
      const match = banner.exec(text);
      if (match?.[1]) return { ...part, url: match[1] };
      if (state.ended) throw new Error(`${name} exited before it listened:\n${text}`);
      await sleep(50);
    }
    await part.stop();
    throw new Error(`${name} did not listen within 60 s; see ${log}`);
  })();
}

async function rssMb(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const tsx = (script: string, ...args: string[]) => ['--import', 'tsx', path.join(ROOT, script), ...args];
/** `rkms` as production runs it: compiled to dist/ (`npm run build`), as the Docker image does. */
const rkms = (root: string, ...args: string[]) => [path.join(root, 'dist/cli/main.js'), ...args];

/** The local KMS with one key (aliased `alias/rkms-<region>`) per region; `regionPort` gets a listener of its own. */
export async function startLocalKms(dir: string, regionPort: number): Promise<Part> {
  const seed = path.join(dir, 'kms-seed.json');
  await writeFile(
    seed,
    JSON.stringify({
      keys: REGIONS.map((region, i) => ({
        keyId: `00000000-0000-4000-8000-00000000000${i}`,
        region,
        aliases: [`alias/rkms-${region}`],
      })),
    }),
  );
  return start(
    'local-kms',
    dir,
    rkms(
      ROOT,
      'local-kms',
      '--port',
      '0',
      '--regions',
      REGIONS.join(','),
      '--region-port',
      `${REGIONS[0]}=${regionPort}`,
      '--seed',
      seed,
      '--log-level',
      'error',
    ),
    /listening on (http:\/\/\S+)/,
  );
}

/** dynalite, in memory, in a process of its own. */
export function startDynalite(dir: string): Promise<Part> {
  return start('dynalite', dir, tsx('test/support/dynalite-server.ts'), /listening on (http:\/\/\S+)/);
}

/** The baseline: a bare Fastify route answering the same `{id, key}` body from a querystring schema. */
export function startBareFastify(dir: string, nodeArgs: string[] = []): Promise<Part> {
  return start(
    'bare-fastify',
    dir,
    [...nodeArgs, ...tsx('bench/bare-server.ts')],
    /listening on (http:\/\/\S+)/,
  );
}

export interface RkmsOptions {
  kmsUrl: string;
  /** us-east-1's own listener, so that a `down` fault refuses connections there. */
  firstRegionUrl: string;
  storeUrl: string;
  table: string;
  /** The shipped config's when absent. */
  cacheTtlSeconds?: number;
  maxEntries?: number;
  /** Settings changed from the shipped config, by section (for experiments: `{ logger: { level: 'warn' } }`). */
  config?: Record<string, Record<string, unknown>>;
  /** Node.js flags after the image's (imageNodeArgs), e.g. `--cpu-prof` to profile the server. */
  nodeArgs?: string[];
  /** The checkout whose dist/ runs (another commit's build, to compare with); this one when absent. */
  root?: string;
}

/**
 * The Node.js flags the image runs RKMS with (the Dockerfile's NODE_OPTIONS: the heap limit,
 * which decides how much of a busy replica's garbage stays resident), so that the bench
 * measures the replica as it is shipped.
 */
export async function imageNodeArgs(): Promise<string[]> {
  const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
  const options = /NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1];
  if (options === undefined) throw new Error('the Dockerfile sets no NODE_OPTIONS="…"');
  return options.split(' ').filter((arg) => arg !== '');
}

/** The repository's config.toml, the embedded default `npm start` runs. */
export async function shippedConfig(): Promise<Record<string, Record<string, unknown>>> {
  return parse(await readFile(path.join(ROOT, 'config.toml'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
}

/**
 * `rkms serve` with the image's Node.js flags and the shipped config (its log level, timeouts,
 * hedging, circuits, cache, gRPC beside HTTP, the audit trail on stdout beside the log),
 * pointed at the separate local KMS and dynalite instead of the embedded ones. One thing
 * differs: one load generator on one address would only measure the per-address rate limit,
 * so it is off.
 */
export async function startRkms(dir: string, name: string, options: RkmsOptions): Promise<Part> {
  const shipped = await shippedConfig();
  const config = {
    ...shipped,
    server: { ...shipped.server, port: 0 },
    grpc: { ...shipped.grpc, port: 0 },
    kms: {
      ...shipped.kms,
      endpoints: Object.fromEntries(
        REGIONS.map((region, i) => [region, i === 0 ? options.firstRegionUrl : options.kmsUrl]),
      ),
    },
    dynamodb: {
      ...shipped.dynamodb,
      table_name: options.table,
      endpoint: options.storeUrl,
      create_table: true,
    },
    cache: {
      ...shipped.cache,
      ...(options.cacheTtlSeconds === undefined ? {} : { ttl_seconds: options.cacheTtlSeconds }),
      ...(options.maxEntries === undefined ? {} : { max_entries: options.maxEntries }),
    },
    rate_limit: { requests_per_minute: 0, creates_per_minute: 0 },
  };
  for (const [section, settings] of Object.entries(options.config ?? {})) {
    Object.assign(config, { [section]: { ...(config as Record<string, object>)[section], ...settings } });
  }
  delete (config as Record<string, unknown>).embedded;
  const file = path.join(dir, `${name}.toml`);
  await writeFile(file, stringify(config));
  return start(
    name,
    dir,
    [
      ...(await imageNodeArgs()),
      ...(options.nodeArgs ?? []),
      ...rkms(options.root ?? ROOT, 'serve', '--config', file),
    ],
    /RKMS listening on (http:\/\/\S+)/,
  );
}
