import type { Logger } from 'pino';
import { AuditUnavailableError } from './errors.js';
import { auditLine, type AuditRecord } from './record.js';
import { FileSink, StdoutSink, type AuditSink } from './sinks.js';

/**
 * How long a write may take before its answers are withheld (503 AuditUnavailable) and the
 * trail counts as broken: a destination that hangs (a stalled network file system) must not
 * hold every request, nor let keys be created that no answer will ever carry.
 */
export const AUDIT_WRITE_TIMEOUT_MS = 2_000;

interface Pending {
  line: string;
  written: Written;
}

/** Called once the line is written (no argument), or with AuditUnavailableError. */
export type Written = (err?: AuditUnavailableError) => void;

/**
 * The audit trail: one line per key operation, written before the answer leaves, so a
 * key is never handed out without its record (Vault's audit devices fail the same way).
 * Lines that arrive while a write is under way go out together in the next write: one
 * system call for a burst, in arrival order, never interleaved. A sink that gathers lines
 * itself (stdout, once per event-loop turn) gets each line as it comes.
 */
export class AuditTrail {
  private pending: Pending[] = [];
  private writing = false;
  private lastWriteFailed = false;
  /** A write that outlived its timeout: nothing else is written until it settles. */
  private stuck: Promise<unknown> | undefined;

  constructor(
    private readonly sink: AuditSink,
    private readonly logger: Logger,
    private readonly writeTimeoutMs = AUDIT_WRITE_TIMEOUT_MS,
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
    return !this.lastWriteFailed && !this.stuck;
  }

  /** Resolves once the line is written; rejects with AuditUnavailableError otherwise. */
  record(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.write(record, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /**
   * `record` for a caller that continues in a callback (the HTTP onSend hook): a cached read
   * then makes no promise of its own on its way out.
   */
  write(record: AuditRecord, written: Written): void {
    const line = auditLine(record);
    if (this.sink.append) {
      // The lines of requests read in one turn are written together at its end, and their
      // answers leave then: a batch of the trail's own would hold all but the first for
      // another turn.
      this.sink.append(line, (err) => {
        this.tell(written, this.settled(err));
      });
      return;
    }
    this.pending.push({ line, written });
    if (!this.writing) void this.flush();
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

  /** The sink's write, or a rejection once it has taken longer than the timeout. */
  private writeInTime(data: string): Promise<void> {
    if (this.stuck) return Promise.reject(new Error('an earlier audit write has not completed'));
    const write = this.sink.write(data);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const stuck = write.catch(() => undefined);
        this.stuck = stuck;
        void stuck.then(() => {
          if (this.stuck === stuck) this.stuck = undefined;
        });
        reject(new Error(`the audit write did not complete within ${this.writeTimeoutMs} ms`));
      }, this.writeTimeoutMs);
    });
    return Promise.race([write, timeout]).finally(() => {
      clearTimeout(timer);
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      let failure: AuditUnavailableError | undefined;
      try {
        await this.writeInTime(batch.map((p) => p.line).join(''));
        failure = this.settled(undefined);
      } catch (err) {
        failure = this.settled(err);
      }
      for (const p of batch) this.tell(p.written, failure);
    }
    this.writing = false;
  }

  /** Notes how a write ended, saying so when the trail breaks or comes back; what its lines' callers hear. */
  private settled(err: unknown): AuditUnavailableError | undefined {
    if (err === undefined) {
      if (this.lastWriteFailed)
        this.logger.warn({ audit: this.sink.description }, 'audit trail writable again');
      this.lastWriteFailed = false;
      return undefined;
    }
    if (!this.lastWriteFailed) {
      this.logger.error(
        { audit: this.sink.description, err },
        'cannot write the audit trail: key operations are refused until it can be written',
      );
    }
    this.lastWriteFailed = true;
    return new AuditUnavailableError({ cause: err });
  }

  /** A callback that throws must not keep the rest of its batch from hearing, nor stop the trail. */
  private tell(written: Written, failure: AuditUnavailableError | undefined): void {
    try {
      written(failure);
    } catch (err) {
      this.logger.error({ err }, 'an audit line was written, but what waited for it failed');
    }
  }
}
