import { writeSync } from 'node:fs';

/** How long a full pipe (EAGAIN) may hold a write before its lines are given up as unwritable. */
const STALL_LIMIT_MS = 10_000;
const STALL_PAUSE_MS = 5;

/** Told once the text it waited for is written (no argument), or why it could not be. */
export type LineWritten = (err?: Error) => void;

/**
 * Lines for one file descriptor (stdout, stderr), written together once per event-loop
 * turn: under load one system call carries the lines of many requests instead of one call
 * per line, and no line waits longer than the turn it was written in. Whatever writes to
 * the same descriptor in this process (the service log, an audit trail on stdout) goes
 * through the same LineOutput, so lines are written whole and in order, never interleaved.
 */
export class LineOutput {
  private chunks: string[] = [];
  private waiting: LineWritten[] = [];
  private scheduled = false;

  constructor(private readonly fd: number) {}

  /** Queues text (whole lines) for this turn's write; pino's destination interface. */
  write(text: string): boolean {
    this.chunks.push(text);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.flush();
      });
    }
    return true;
  }

  /**
   * Queues text and tells `written` once the operating system has it, or why it could not
   * be written, in the same turn: what waits for it goes on at once, with no promise between.
   * `written` must not throw.
   */
  writeThen(text: string, written: LineWritten): void {
    this.waiting.push(written);
    this.write(text);
  }

  /** Writes what is queued, now. */
  flush(): void {
    this.scheduled = false;
    if (this.chunks.length === 0) return;
    const data = this.chunks.join('');
    const waiting = this.waiting;
    this.chunks = [];
    this.waiting = [];
    try {
      writeAll(this.fd, data);
    } catch (err) {
      // writeSync throws Node's system errors.
      for (const written of waiting) written(err as Error);
      return;
    }
    for (const written of waiting) written();
  }
}

function writeAll(fd: number, text: string): void {
  // The string goes to the system call as it is: most writes land whole, with no Buffer made.
  let written = 0;
  try {
    written = writeSync(fd, text);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
  }
  if (written < Buffer.byteLength(text, 'utf8')) writeRest(fd, Buffer.from(text, 'utf8'), written);
}

function writeRest(fd: number, data: Buffer, from: number): void {
  let offset = from;
  let stalledMs = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(fd, data, offset);
      stalledMs = 0;
    } catch (err) {
      // A non-blocking pipe whose reader is behind: give it a moment, within a bound.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || stalledMs >= STALL_LIMIT_MS) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STALL_PAUSE_MS);
      stalledMs += STALL_PAUSE_MS;
    }
  }
}

const outputs = new Map<number, LineOutput>();

/** The process's one LineOutput for a descriptor; what it holds is written before the process exits. */
export function lineOutput(fd: 1 | 2): LineOutput {
  let output = outputs.get(fd);
  if (!output) {
    const created = new LineOutput(fd);
    process.on('exit', () => {
      created.flush();
    });
    outputs.set(fd, created);
    output = created;
  }
  return output;
}
