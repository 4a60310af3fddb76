import { describe, expect, it } from 'vitest';
import { tokenSha256 } from '../../src/auth/token.js';
import { tokenCommand } from '../../src/cli/token.js';
import { runInProcess } from '../support/cli.js';

/** `rkms token <args>` in process: what it printed, or how it refused. */
const runToken = (args: string[]) => runInProcess(tokenCommand(), args);

describe('rkms token', () => {
  it('needs --ids: a client allowed every id is written out, never a default', async () => {
    const { stdout, stderr, error } = await runToken(['--name', 'billing']);
    expect(error?.exitCode).toBe(2);
    expect(stderr).toContain(
      "rkms token: --ids is required: the id patterns this client may use, e.g. --ids 'billing/*,shared-report' (--ids '*' lets it use every id)",
    );
    // Nothing to paste, and no token made for a client that was never declared.
    expect(stdout).toBe('');
  });

  it("takes --ids '*' when every id is meant", async () => {
    const { stdout, error } = await runToken(['--name', 'admin', '--ids', '*', '--actions', 'get,delete']);
    expect(error).toBeUndefined();
    const token = /^(rkms_\S+)$/m.exec(stdout)?.[1] ?? '';
    expect(stdout).toContain(
      [
        '[[auth.clients]]',
        'name = "admin"',
        `token_sha256 = "${tokenSha256(token)}"`,
        'ids = ["*"]',
        'actions = ["get", "delete"]',
      ].join('\n'),
    );
  });

  it('documents --ids as required in its help', () => {
    expect(tokenCommand().helpInformation()).toMatch(/--ids <patterns>\s+required:/);
  });

  it('refuses an unknown action and a name that is not one, saying what it takes', async () => {
    const action = await runToken(['--ids', '*', '--actions', 'get,read']);
    expect(action.error?.exitCode).not.toBe(0);
    expect(action.stderr).toMatch(/unknown read; use get, create, delete, restore/);
    const name = await runToken(['--ids', '*', '--name', 'has space']);
    expect(name.error?.exitCode).not.toBe(0);
    expect(name.stderr).toMatch(/letters, digits, "\.", "_" and "-", at most 64/);
    expect(action.stdout + name.stdout).toBe('');
  });
});
