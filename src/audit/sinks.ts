import { open, type FileHandle } from 'node:fs/promises';

/** Where audit lines go. `write` resolves once the operating system has the bytes. */
export interface AuditSink {
  readonly description: string;
  write(data: string): Promise<void>;
  /** Opens the destination again (after log rotation). */
  reopen(): Promise<void>;
  close(): Promise<void>;
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
    this.handle ??= await open(this.path, 'a', 0o600);
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
    const fresh = await open(this.path, 'a', 0o600);
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

/** Standard output, for a collector that reads the container's output; lines are told apart by `"type":"audit"`. */
export class StdoutSink implements AuditSink {
  readonly description = 'stdout';
  private failure: Error | undefined;
  private readonly onError = (err: Error) => {
    // An unhandled 'error' would end the process; a closed stdout fails the next write instead.
    this.failure = err;
  };

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {
    stream.on('error', this.onError);
  }

  write(data: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.stream.write(data, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }

  reopen(): Promise<void> {
    this.failure = undefined;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.stream.off('error', this.onError);
    return Promise.resolve();
  }
}
