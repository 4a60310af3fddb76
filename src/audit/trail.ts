import type { Logger } from 'pino';
import { AuditUnavailableError } from './errors.js';
import { auditLine, type AuditRecord } from './record.js';
import { FileSink, StdoutSink, type AuditSink } from './sinks.js';

interface Pending {
  line: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The audit trail: one line per key operation, written before the answer leaves, so a
 * key is never handed out without its record (Vault's audit devices fail the same way).
 * Lines that arrive while a write is under way go out together in the next write: one
 * system call for a burst, in arrival order, never interleaved.
 */
export class AuditTrail {
  private pending: Pending[] = [];
  private writing = false;
  private lastWriteFailed = false;

  constructor(
    private readonly sink: AuditSink,
    private readonly logger: Logger,
  ) {}

  /** Opens `[audit] path` (appending) or stdout; a file that cannot be opened throws here, at start. */
  static async open(path: string | undefined, logger: Logger): Promise<AuditTrail> {
    const sink = path === undefined ? new StdoutSink() : await FileSink.open(path);
    return new AuditTrail(sink, logger);
  }

  get destination(): string {
    return this.sink.description;
  }

  /**
   * Whether the last write succeeded. After a failure, operations are refused before they
   * change anything; the line recording each refusal is the probe that finds the trail back.
   */
  get healthy(): boolean {
    return !this.lastWriteFailed;
  }

  /** Resolves once the line is written; rejects with AuditUnavailableError otherwise. */
  async record(record: AuditRecord): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.pending.push({ line: auditLine(record), resolve, reject });
        if (!this.writing) void this.flush();
      });
    } catch (err) {
      throw new AuditUnavailableError({ cause: err });
    }
  }

  /** After log rotation (SIGHUP): the file is opened again by its path. */
  async reopen(): Promise<void> {
    await this.sink.reopen();
    this.logger.info({ audit: this.sink.description }, 'audit trail reopened');
  }

  async close(): Promise<void> {
    while (this.writing) await new Promise((resolve) => setImmediate(resolve));
    await this.sink.close();
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.sink.write(batch.map((p) => p.line).join(''));
        if (this.lastWriteFailed)
          this.logger.warn({ audit: this.sink.description }, 'audit trail writable again');
        this.lastWriteFailed = false;
        for (const p of batch) p.resolve();
      } catch (err) {
        if (!this.lastWriteFailed) {
          this.logger.error(
            { audit: this.sink.description, err },
            'cannot write the audit trail: key operations are refused until it can be written',
          );
        }
        this.lastWriteFailed = true;
        for (const p of batch) p.reject(err);
      }
    }
    this.writing = false;
  }
}
