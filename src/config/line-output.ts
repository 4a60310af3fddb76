import { writeSync } from 'node:fs';

/** How long a full pipe (EAGAIN) may hold a write before its lines are given up as unwritable. */
const STALL_LIMIT_MS = 10_000;
const STALL_PAUSE_MS = 5;

/** Told once the text it waited for is written (no argument), or why it could not be. */
export type LineWritten = (err?: Error) => void;

/**
 * How long a request's completion line may sit before it is written. Under load it then
 * shares one system call with the lines of many turns, not of one: a write to a pipe or
 * file costs more than the rest of a cached read's line.
 */
export const SOON_MS = 20;
/** Queued text past which it is written at the end of the turn, whatever waits for it. */
const MAX_QUEUED_CHARS = 64 * 1024;

/**
 * Lines for one file descriptor (stdout, stderr), gathered into few system calls. Lines
 * are written at the end of the event-loop turn they were queued in (an audit line's
 * answer leaves right after), except the one completion line of every request
 * (`writeSoon`): within SOON_MS, or sooner, with the next line of a turn.
 * Whatever writes to the same descriptor in this process (the service log, an audit trail
 * on stdout) goes through the same LineOutput, so lines are written whole and in order,
 * never interleaved; what is queued is written before the process exits.
 */
export class LineOutput {
  private chunks: string[] = [];
  private queuedChars = 0;
  private waiting: LineWritten[] = [];
  private turnFlush = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fd: number,
    private readonly soonMs = SOON_MS,
  ) {}

  /** Queues text (whole lines) for this turn's write; pino's destination interface. */
  write(text: string): boolean {
    this.queue(text);
    this.flushThisTurn();
    return true;
  }

  /**
   * Queues text that may wait a little: written within SOON_MS, with the next line of a
   * turn if one comes first. For the completion line of every request, the bulk of the log.
   */
  writeSoon(text: string): void {
    this.queue(text);
    if (this.queuedChars >= MAX_QUEUED_CHARS) this.flushThisTurn();
    else if (!this.turnFlush && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.flush();
      }, this.soonMs);
      // Queued lines never hold the process open: they are written on exit.
      this.timer.unref();
    }
  }

  /**
   * Queues text and tells `written` once the operating system has it, or why it could not
   * be written, at the end of this turn: what waits for it goes on at once, with no promise
   * between. `written` must not throw.
   */
  writeThen(text: string, written: LineWritten): void {
    this.queue(text);
    this.waiting.push(written);
    this.flushThisTurn();
  }

  /** Writes what is queued, now. */
  flush(): void {
    this.turnFlush = false;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.chunks.length === 0) return;
    const data = this.chunks.join('');
    const waiting = this.waiting;
    this.chunks = [];
    this.queuedChars = 0;
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

  private flushThisTurn(): void {
    if (this.turnFlush) return;
    this.turnFlush = true;
    setImmediate(() => {
      this.flush();
    });
  }

  private queue(text: string): void {
    this.chunks.push(text);
    this.queuedChars += text.length;
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
