import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogStream } from '../support/audit.js';
import { testConfig } from '../support/config.js';
import { getKey } from '../support/http.js';
import { startStack, type RunningService, type Stack } from '../support/stack.js';

/**
 * The package as an application gets it: built, packed with `npm pack`, installed from
 * the tarball into a scratch project, its declarations type-checked by tsc, and the
 * examples of docs/client.md run there as they stand.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let work: string | undefined;
let scratch: string;
let stack: Stack | undefined;
let replicas: RunningService[];

/** Runs a command; its output goes to the log audit, and into the error when it fails. */
async function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const audit = auditLogStream(`package-${path.basename(command)}`);
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd,
      // Outside `npm test`'s own configuration: the scratch project is another project.
      env: { ...withoutNpmConfig(process.env), ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    audit.write(stdout + stderr);
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    audit.write(stdout + stderr);
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`, { cause: error });
  }
}

function withoutNpmConfig(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !/^npm_/i.test(name)));
}

/** The code blocks of a page (docs/client.md, README.md) that carry a `<!-- checked: ... -->` line. */
function checkedExamples(page: string): string[] {
  const docs = readFileSync(path.join(ROOT, page), 'utf8');
  return [...docs.matchAll(/<!-- checked:[^>]*-->\s*```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

const installedVersion = (name: string) =>
  (
    JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

/**
 * The package's dependencies at the versions this checkout installed and tested. What is
 * checked here is the package, not the registry's newest releases: those can depend on a
 * version the registry does not hold yet (seen: @aws-sdk/client-dynamodb 3.1178.0 needing
 * an @aws-sdk/middleware-endpoint-discovery that was not published), and the install fails.
 */
function testedVersions(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  const names = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });
  return Object.fromEntries(names.map((name) => [name, installedVersion(name)]));
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'rkms-package-'));
  await sh('npm', ['run', 'build'], ROOT);
  const packed = JSON.parse(
    await sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT),
  ) as { filename: string }[];
  const tarball = path.join(work, packed[0]?.filename ?? '');

  scratch = path.join(work, 'app');
  mkdirSync(scratch);
  writeFileSync(
    path.join(scratch, 'package.json'),
    JSON.stringify({ name: 'scratch-app', private: true, type: 'module', overrides: testedVersions() }),
  );
  await sh(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      tarball,
      `@types/node@${installedVersion('@types/node')}`,
      `@aws-sdk/client-kms@${installedVersion('@aws-sdk/client-kms')}`,
    ],
    scratch,
  );
  const [clientExample, localKmsExample] = checkedExamples('docs/client.md');
  writeFileSync(path.join(scratch, 'client-example.ts'), clientExample ?? '');
  writeFileSync(path.join(scratch, 'local-kms-example.ts'), localKmsExample ?? '');
  const [readmeLocalKmsTest] = checkedExamples('README.md');
  writeFileSync(path.join(scratch, 'readme-local-kms.test.ts'), readmeLocalKmsTest ?? '');
  writeFileSync(path.join(scratch, 'types.ts'), TYPES_USE);
  writeFileSync(
    path.join(scratch, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        // As most applications do. Checking every library's declarations would spend
        // 20 s in typebox's; TYPES_USE checks instead that ours resolve to real types.
        skipLibCheck: true,
        types: ['node'],
        outDir: 'out',
      },
      include: ['*.ts'],
    }),
  );
  stack = await startStack(testConfig(), 'package');
  replicas = [await stack.startService(), await stack.startService()];
}, 240_000);

afterAll(async () => {
  await stack?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** What an application writes against the declarations; tsc fails if one is missing or wrong. */
const TYPES_USE = `
import { EnvelopeError, RkmsClient, RkmsConfigError, RkmsError, ENVELOPE_OVERHEAD, type KeyStatus, type RkmsClientOptions } from 'rkms/client';
import { startLocalKms, LocalKmsConfigError, type LocalKms, type LocalKmsOptions } from 'rkms/local-kms';

const options: RkmsClientOptions = { urls: ['http://127.0.0.1:1'], cache: { ttlMs: 1000 }, token: () => 'token' };
export const client: RkmsClient = new RkmsClient(options);
export const key: Promise<Buffer> = client.getKey('id', { deadlineMs: 100 });
export const status: Promise<KeyStatus> = client.deleteKey('id');
export const errors = [EnvelopeError, RkmsConfigError, RkmsError, LocalKmsConfigError, ENVELOPE_OVERHEAD];
export const describe = (error: RkmsError): string => \`\${error.errorType} \${error.status ?? '-'} \${error.requestId ?? '-'}\`;
const kmsOptions: LocalKmsOptions = { regions: ['us-east-1'] };
export const kms: Promise<LocalKms> = startLocalKms(kmsOptions);
// A declaration that imports something the package lacks degrades to any without an error.
type IsAny<T> = 0 extends 1 & T ? true : false;
export const notAny: [
  IsAny<Awaited<ReturnType<RkmsClient['getKey']>>>,
  IsAny<RkmsError['errorType']>,
  IsAny<LocalKms['faults']>,
  IsAny<LocalKmsOptions['logger']>,
  IsAny<Parameters<LocalKms['faults']['set']>[1]>,
] = [false, false, false, false, false];
// @ts-expect-error: the client's internals are not part of the package.
import type {} from 'rkms/dist/client/call.js';
`;

describe('the packed package', () => {
  it('type-checks an application against its declarations', async () => {
    await sh(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', scratch], scratch);
  });

  it('runs the client example of docs/client.md, with one replica stopped', async () => {
    const [stopped, live] = replicas;
    await stopped?.service.close();
    const stdout = await sh(process.execPath, ['out/client-example.js'], scratch, {
      RKMS_URLS: replicas.map((r) => r.url).join(','),
    });
    expect(stdout).toBe('4111 1111 1111 1111\n');
    // The example's key, for the log audit.
    await getKey(live?.url ?? '', 'tenant-42');
  });

  it('runs the local KMS example of docs/client.md', async () => {
    const stdout = await sh(process.execPath, ['out/local-kms-example.js'], scratch);
    expect(stdout).toContain('hello\n');
    expect(stdout).toMatch(/'eu-west-1': \{ CreateKey: 1, Encrypt: 1, Decrypt: 1 \}/);
  });

  it("runs the README's local KMS test with node --test", async () => {
    const stdout = await sh(process.execPath, ['--test', 'out/readme-local-kms.test.js'], scratch);
    expect(stdout).toMatch(/^# pass 1$/m);
    expect(stdout).toMatch(/^# fail 0$/m);
  });

  it('keeps its command working: usage and version from the installed entry point', async () => {
    const help = await sh(process.execPath, ['node_modules/.bin/rkms', '--help'], scratch);
    expect(help).toMatch(/^Usage: rkms/m);
    expect(help).toContain('local-kms');
    const version = await sh(process.execPath, ['node_modules/.bin/rkms', '--version'], scratch);
    const { version: packed } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version).toBe(`${packed}\n`);
  });
});
