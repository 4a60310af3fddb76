import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineOutput } from '../../src/config/line-output.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Runs `body` with a fresh file's descriptor and a reader of what it holds; closes it after. */
async function withFile(
  name: string,
  body: (fd: number, contents: () => string) => Promise<void>,
): Promise<void> {
  const file = path.join(dir, name);
  const fd = openSync(file, 'w');
  try {
    await body(fd, () => readFileSync(file, 'utf8'));
  } finally {
    closeSync(fd);
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rkms-line-output-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('LineOutput', () => {
  it('writes everything to a pipe that fills up, in order, with no character split or lost', async () => {
    const copy = path.join(dir, 'copy.txt');
    // A reader on the other end of a non-blocking pipe, as a container runtime reads stdout.
    const reader = spawn(
      process.execPath,
      ['-e', `process.stdin.pipe(require('node:fs').createWriteStream(${JSON.stringify(copy)}))`],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    const fd = (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    const output = new LineOutput(fd);
    // Several times a pipe's capacity (64 KiB), with characters of two to four bytes, so
    // that writes land in parts and a part may end inside a character.
    const lines = Array.from({ length: 3000 }, (_, i) => `{"n":${i},"text":"é€𝄞 ${'x'.repeat(i % 97)}"}\n`);
    const told: (Error | undefined)[] = [];
    for (const line of lines) output.writeThen(line, (err) => told.push(err));
    await new Promise((resolve) => setImmediate(resolve));
    expect(told).toHaveLength(lines.length);
    expect(told.every((err) => err === undefined)).toBe(true);
    reader.stdin.end();
    await once(reader, 'exit');
    expect(await readFile(copy, 'utf8')).toBe(lines.join(''));
  });

  it('writes a completion line (writeSoon) within its delay, not in its own turn', async () => {
    await withFile('unawaited.txt', async (fd, contents) => {
      const output = new LineOutput(fd, 50);
      output.writeSoon('one\n');
      output.writeSoon('two\n');
      await nextTurn();
      expect(contents()).toBe('');
      await expect.poll(contents, { timeout: 10_000 }).toBe('one\ntwo\n');
    });
  });

  it('writes completion lines with the next line of a turn, in order, at the end of that turn', async () => {
    await withFile('awaited.txt', async (fd, contents) => {
      // A delay no test outlives: only a line of the turn can have written the first one.
      const output = new LineOutput(fd, 3_600_000);
      output.writeSoon('completed\n');
      const told: (Error | undefined)[] = [];
      output.writeThen('audit\n', (err) => told.push(err));
      output.writeSoon('completed after\n');
      expect(contents()).toBe('');
      await nextTurn();
      expect(told).toEqual([undefined]);
      expect(contents()).toBe('completed\naudit\ncompleted after\n');
      output.writeSoon('completed last\n');
      output.write('warning\n');
      await nextTurn();
      expect(contents()).toBe('completed\naudit\ncompleted after\ncompleted last\nwarning\n');
    });
  });

  it('writes what is queued before the process exits', async () => {
    const script = [
      `const { lineOutput } = await import(${JSON.stringify(new URL('../../src/config/line-output.ts', import.meta.url).href)});`,
      "lineOutput(1).writeSoon('last words\\n');",
      'process.exit(0);',
    ].join('\n');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 60_000 },
    );
    expect(stdout).toBe('last words\n');
  });
});
