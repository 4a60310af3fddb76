import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineOutput } from '../../src/config/line-output.js';

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
});
