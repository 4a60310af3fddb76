import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CommanderError, type Command } from 'commander';
import { vi } from 'vitest';
import { auditLogStream } from './audit.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  /** Resolves with the first match of `pattern` in stdout or stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Runs `rkms <args>` from the sources, as `npm start` does; its output also goes to the log audit. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  return runScript('src/cli/main.ts', args, env, `cli-${args[0] ?? 'serve'}`);
}

/** Runs a TypeScript file of the repository in a process of its own, its output going to the log audit. */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, label: string): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const audit = auditLogStream(label);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    audit.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    audit.write(chunk);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`timed out waiting for ${pattern}; stdout: ${out}; stderr: ${err}`));
        }, timeoutMs);
        // Logs go to stdout, banners and summaries to stderr: look in both.
        const check = () => {
          const match = out.match(pattern) ?? err.match(pattern);
          if (match) {
            clearTimeout(timer);
            child.stdout.off('data', check);
            child.stderr.off('data', check);
            resolve(match);
          }
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`exited with ${code} before printing ${pattern}; stdout: ${out}; stderr: ${err}`));
        });
        check();
      });
    },
    async stop(signal = 'SIGINT') {
      child.kill(signal);
      return exited;
    },
  };
}

/** Kills whatever a failed test left running. */
export function killAllClis(): void {
  for (const child of running) child.kill('SIGKILL');
}

/**
 * The result line a command printed on stdout: stdout is JSON lines (the log, then the
 * result), so find the line that has `field` rather than trusting the last one.
 */
export function resultLine(stdout: string, field: string): Record<string, unknown> {
  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => field in line);
  if (lines.length !== 1)
    throw new Error(`expected one result line with "${field}", got ${lines.length}: ${stdout}`);
  return lines[0] ?? {};
}

/**
 * A command run in process, to the end: what it printed (through commander or straight to
 * stdout), or how it refused — the exit code commander would hand to process.exit.
 */
export async function runInProcess(
  command: Command,
  args: string[],
): Promise<{ stdout: string; stderr: string; error?: CommanderError }> {
  let stdout = '';
  let stderr = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  command
    .exitOverride()
    .configureOutput({ writeErr: (text) => (stderr += text), writeOut: (text) => (stdout += text) });
  try {
    await command.parseAsync(args, { from: 'user' });
    return { stdout, stderr };
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return { stdout, stderr, error: err };
  } finally {
    write.mockRestore();
  }
}
