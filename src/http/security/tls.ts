import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createSecureContext, type TlsOptions } from 'node:tls';
import type { Logger } from 'pino';

export interface TlsFiles {
  cert: string;
  key: string;
  /** CAs of client certificates: set, clients may authenticate with one (mutual TLS). */
  ca?: string | undefined;
}

/** The files' contents, as a secure context takes them. */
export interface TlsPems {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/** What a reload updates: a node:tls server, or anything that takes a new context the same way (the gRPC server's). */
export interface SecureContextTarget {
  setSecureContext(options: TlsPems): void;
}

export interface TlsWatchOptions {
  /** How often the files are looked at; tests shorten it. */
  watchIntervalMs?: number;
}

/** Certificate renewals are rare and a stat is cheap: a renewal is served within about this long. */
const WATCH_INTERVAL_MS = 2_000;

/**
 * The server's certificate, key and client CAs, read from PEM files and replaced in the
 * running server — on SIGHUP or when a file changes (cert-manager renewing a Secret) —
 * with `setSecureContext`: new connections get the new certificate, open ones keep theirs.
 * A set of files that does not load (a key written before its certificate) is logged and
 * the previous one stays.
 */
export class TlsCredentials {
  private servers: SecureContextTarget[] = [];
  private readonly watched: [string, () => void][] = [];
  private reloading: Promise<void> | undefined;
  private again = false;

  private constructor(
    private readonly files: TlsFiles,
    private current: TlsPems,
    private readonly logger: Logger,
    private readonly watchIntervalMs: number,
  ) {}

  /** Reads and checks the files; throws with the file and the reason when they cannot serve. */
  static async load(
    files: TlsFiles,
    logger: Logger,
    { watchIntervalMs = WATCH_INTERVAL_MS }: TlsWatchOptions = {},
  ): Promise<TlsCredentials> {
    return new TlsCredentials(files, await readCredentials(files), logger, watchIntervalMs);
  }

  get mutual(): boolean {
    return this.files.ca !== undefined;
  }

  /** Options for `https.createServer`. A client certificate is asked for, not required: a token works too. */
  serverOptions(): TlsOptions {
    return { ...this.current, requestCert: this.mutual, rejectUnauthorized: false };
  }

  /** What the files hold now: the certificate, key and client CAs served to new connections. */
  get pems(): TlsPems {
    return this.current;
  }

  /** A server whose context `reload` replaces; the files are watched from now on. */
  attach(server: SecureContextTarget): void {
    this.servers.push(server);
    if (this.watched.length > 0) return;
    for (const file of [this.files.cert, this.files.key, this.files.ca]) {
      if (file === undefined) continue;
      const listener = () => {
        void this.reload();
      };
      watchFile(file, { interval: this.watchIntervalMs, persistent: false }, listener);
      this.watched.push([file, listener]);
    }
  }

  /** Reads the files again and serves them to new connections; resolves when done (never rejects). */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        try {
          const next = await readCredentials(this.files);
          for (const server of this.servers) server.setSecureContext({ ...next });
          this.current = next;
          this.logger.info({ cert: this.files.cert }, 'TLS certificate reloaded');
        } catch (err) {
          this.logger.error({ err }, 'TLS certificate not reloaded: the previous one is still served');
        }
      } while (this.changedMeanwhile());
      this.reloading = undefined;
    })();
    return this.reloading;
  }

  /** Whether `reload` was asked for again while a reload ran (read through a call: it changes across awaits). */
  private changedMeanwhile(): boolean {
    return this.again;
  }

  close(): void {
    for (const [file, listener] of this.watched.splice(0)) unwatchFile(file, listener);
    this.servers = [];
  }
}

async function readCredentials(files: TlsFiles): Promise<TlsPems> {
  const read = async (setting: string, file: string) => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(
        `server.tls.${setting}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        {
          cause: err,
        },
      );
    }
  };
  const options: TlsPems = {
    cert: await read('cert', files.cert),
    key: await read('key', files.key),
    ...(files.ca === undefined ? {} : { ca: await read('ca', files.ca) }),
  };
  try {
    createSecureContext(options);
  } catch (err) {
    throw new Error(
      `server.tls: the certificate and key in ${files.cert} and ${files.key} cannot be used: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return options;
}
