import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { localKmsCommand } from '../../src/cli/local-kms.js';
import { runInProcess } from '../support/cli.js';
import { expectKmsError, Fixture } from '../support/local-kms.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const fixture = new Fixture();
const children = new Set<ChildProcess>();

interface Run {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function runCli(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'local-kms', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

async function urlOf(run: Run): Promise<string> {
  for (let waited = 0; waited < 20_000; waited += 50) {
    const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.output());
    if (match?.[1]) return match[1];
    if (run.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the local KMS did not start:\n${run.output()}`);
}

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
});
afterAll(() => fixture.cleanup());

describe('rkms local-kms', () => {
  it('serves seeded keys in several regions, takes faults from flags and the admin endpoint, and stops cleanly on SIGINT', async () => {
    const dir = await fixture.tempDir();
    const seed = join(dir, 'seed.toml');
    await writeFile(
      seed,
      '[[keys]]\nkeyId = "1234abcd-12ab-34cd-56ef-1234567890ab"\naliases = ["alias/cli"]\n',
    );
    const run = runCli([
      '--port',
      '0',
      '--regions',
      'us-east-1,us-west-2',
      '--data',
      join(dir, 'data'),
      '--seed',
      seed,
      '--fault',
      'us-west-2:error',
    ]);
    const url = await urlOf(run);
    expect(run.output()).toContain('regions:  us-east-1, us-west-2');
    expect(run.output()).toContain('UNPROTECTED');
    expect(run.output()).toContain(`${url}/admin/`);

    const east = fixture.client(url, 'us-east-1');
    const west = fixture.client(url, 'us-west-2');
    expect((await east.send(new DescribeKeyCommand({ KeyId: 'alias/cli' }))).KeyMetadata?.KeyId).toBe(
      '1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    await expectKmsError(west.send(new ListKeysCommand({})), 'KMSInternalException', 500);
    expect((await fetch(`${url}/admin/faults`, { method: 'DELETE' })).status).toBe(204);
    expect((await west.send(new DescribeKeyCommand({ KeyId: 'alias/cli' }))).KeyMetadata?.Arn).toContain(
      ':us-west-2:',
    );
    expect(await (await fetch(`${url}/admin/counters`)).json()).toEqual({
      'us-east-1': { DescribeKey: 1 },
      'us-west-2': { ListKeys: 1, DescribeKey: 1 },
    });

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('local KMS stopped');
  });

  it('encrypts its store with a passphrase from the environment and refuses a wrong one with exit code 1', async () => {
    const dir = await fixture.tempDir();
    const first = runCli(['--port', '0', '--data', dir], { RKMS_LOCAL_KMS_PASSPHRASE: 'env secret' });
    await urlOf(first);
    expect(first.output()).toContain('encrypted with the passphrase');
    expect(first.output()).not.toContain('UNPROTECTED');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const wrong = runCli(['--port', '0', '--data', dir, '--passphrase', 'guess']);
    expect(await wrong.exited).toBe(1);
    expect(wrong.output()).toMatch(/wrong passphrase/);
  });

  // Parsed in process: the message and the exit code commander hands to process.exit. The
  // passphrase test above sees such an exit (code 1, message on stderr) from a real process.
  it('exits non-zero with a message that says what to fix for invalid flags', async () => {
    const cases: [string[], RegExp][] = [
      [['--regions', 'moon-base'], /not a region name/],
      [['--port', '70000'], /port number/],
      [['--passphrase', 'x'], /needs --data/],
      [['--fault', 'us-east-1:explode'], /<region>:<mode>/],
      [['--account-id', '12'], /12 digits/],
      [['--fault', 'eu-west-3:down'], /unknown region eu-west-3/],
    ];
    for (const [args, message] of cases) {
      const { error, stderr } = await runInProcess(localKmsCommand(), ['--port', '0', ...args]);
      expect(error?.exitCode, args.join(' ')).toBeGreaterThan(0);
      expect(stderr, args.join(' ')).toMatch(message);
    }
  });
});
