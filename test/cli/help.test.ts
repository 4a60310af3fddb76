import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { rkmsProgram } from '../../src/cli/program.js';

/** Each command's help, built in process: what `rkms <command> --help` prints. */
function helpOf(...path: string[]): string {
  let command = rkmsProgram();
  for (const name of path) {
    const next = command.commands.find((c) => c.name() === name);
    if (!next) throw new Error(`no command ${name}`);
    command = next;
  }
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s) });
  command.outputHelp();
  return text;
}

describe('rkms help', () => {
  it('lists every command', () => {
    const help = helpOf();
    for (const name of ['serve', 'sweep', 'repair', 'local-kms'])
      expect(help).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
    expect(help).toContain('--version');
  });

  it.each([
    [['serve'], ['--config <path>', 'RKMS_CONFIG', 'start banner goes to stderr']],
    [['sweep'], ['--config <path>']],
    [
      ['repair'],
      ['--dry-run', '--verify', '--rewrap', '--concurrency <n>', 'Exits 0 when every item is complete'],
    ],
    [['local-kms'], ['--regions <list>', '--fault', '--seed <file>', 'RKMS_LOCAL_KMS_PASSPHRASE']],
  ])('documents %j', (path, options) => {
    const help = helpOf(...path);
    expect(help).toMatch(new RegExp(`^Usage: rkms ${path.join(' ')}`, 'm'));
    for (const option of options) expect(help).toContain(option);
  });
});

describe('rkms with an unknown command', () => {
  it('names the command and lists the real ones, instead of running serve with an argument', async () => {
    const program = rkmsProgram();
    let errors = '';
    // Every command throws instead of exiting, so a regression fails this test rather than the run.
    for (const command of [program, ...program.commands]) {
      command.exitOverride().configureOutput({ writeErr: (s) => (errors += s), writeOut: () => undefined });
    }
    await expect(program.parseAsync(['bogus'], { from: 'user' })).rejects.toMatchObject({ exitCode: 1 });
    expect(errors).toMatch(
      /^error: unknown command 'bogus'; the commands are serve, sweep, repair, local-kms, token$/m,
    );
    expect(errors).not.toContain('too many arguments');
  });
});

describe('rkms --version', () => {
  it('prints the version of package.json for --version, and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    let text = '';
    const program = rkmsProgram()
      .exitOverride()
      .configureOutput({ writeOut: (s) => (text += s) });
    const exit = await program.parseAsync(['--version'], { from: 'user' }).catch((error: unknown) => error);
    expect(exit).toBeInstanceOf(CommanderError);
    expect((exit as CommanderError).exitCode).toBe(0);
    expect(text).toBe(`${version}\n`);
  });
});
