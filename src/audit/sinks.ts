import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { lineOutput, type LineOutput, type LineWritten } from '../config/line-output.js';

/** Where audit lines go. `write` resolves once the operating system has the bytes. */
export interface AuditSink {
  readonly description: string;
  write(data: string): Promise<void>;
  /**
   * For a sink that gathers the lines of a turn into one write itself: queues one line and
   * tells `written` once it is written (or why not). The trail then adds no batching of its own.
   */
  append?(line: string, written: LineWritten): void;
  /** Opens the destination again (after log rotation). */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Non-blocking, so that a FIFO nobody reads fails to open at once (ENXIO) instead of holding
 * the opening thread, and refused unless it is a regular file or a character device
 * (/dev/null, a terminal): a pipe could hold every write for as long as its reader sleeps.
 */
async function openForAppending(path: string): Promise<FileHandle> {
  const handle = await open(
    path,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK,
    0o600,
  );
  const stats = await handle.stat();
  if (!stats.isFile() && !stats.isCharacterDevice()) {
    await handle.close();
    throw new Error(
      `${path} is not a regular file: [audit] path must name a file (leave it unset to write the trail to stdout)`,
    );
  }
  return handle;
}

/**
 * A file, opened for appending (mode 0600: it names clients and ids). After a failed
 * write the file is opened again before the next one, so a removed or replaced file
 * is picked up once it can be.
 */
export class FileSink implements AuditSink {
  private handle: FileHandle | undefined;

  private constructor(private readonly path: string) {}

  /** Opens the file now, so a destination that cannot be written stops RKMS at start. */
  static async open(path: string): Promise<FileSink> {
    const sink = new FileSink(path);
    await sink.reopen();
    return sink;
  }

  get description(): string {
    return this.path;
  }

  async write(data: string): Promise<void> {
    this.handle ??= await openForAppending(this.path);
    const bytes = Buffer.from(data, 'utf8');
    try {
      let offset = 0;
      while (offset < bytes.length) {
        const { bytesWritten } = await this.handle.write(bytes, offset);
        offset += bytesWritten;
      }
    } catch (err) {
      const broken = this.handle;
      this.handle = undefined;
      await broken.close().catch(() => undefined);
      throw err;
    }
  }

  async reopen(): Promise<void> {
    const fresh = await openForAppending(this.path);
    const old = this.handle;
    this.handle = fresh;
    await old?.close();
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

/**
 * Standard output, for a collector that reads the container's output; lines are told apart
 * by `"type":"audit"`. They go through the process's one writer of that descriptor, so they
 * never interleave with other lines written there.
 */
export class StdoutSink implements AuditSink {
  readonly description = 'stdout';

  constructor(private readonly output: LineOutput = lineOutput(1)) {}

  /** The trail uses `append`; this is the same write, as a promise, for the AuditSink interface. */
  write(data: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.append(data, (err) => {
        if (err === undefined) resolve();
        else reject(err);
      });
    });
  }

  /**
   * The lines of a turn leave in the turn's one write to stdout, and the answers waiting
   * for them go out in that same turn.
   */
  append(line: string, written: LineWritten): void {
    this.output.writeThen(line, written);
  }

  reopen(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.output.flush();
    return Promise.resolve();
  }
}
