import { CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tokenSha256 } from '../../src/auth/token.js';
import { tokenCommand } from '../../src/cli/token.js';

/** `rkms token <args>` in process: what it printed, or how it refused. */
async function runToken(args: string[]): Promise<{ stdout: string; stderr: string; error?: CommanderError }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const command = tokenCommand()
    .exitOverride()
    .configureOutput({ writeErr: (text) => (stderr += text), writeOut: (text) => (stdout += text) });
  try {
    await command.parseAsync(args, { from: 'user' });
    return { stdout, stderr };
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return { stdout, stderr, error: err };
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

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
});
