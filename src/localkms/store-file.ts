import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodeStoreFile,
  encodeStoreFile,
  newProtection,
  type Protection,
  type StoreSnapshot,
} from './store-codec.js';

export const STORE_FILE_NAME = 'kms-store.json';
const LOCK_FILE_NAME = 'kms-store.lock';

/**
 * Another process holds the data directory. The message says what to do in terms of the
 * directory; a command line that chose it by a flag or a setting names that instead.
 */
export class StoreLockedError extends Error {
  override name = 'StoreLockedError';
  constructor(
    readonly dir: string,
    /** Who holds it, e.g. `process 4242`; undefined when the lock could not be taken for another reason. */
    readonly holder: string | undefined,
    readonly lockPath: string,
  ) {
    super(
      holder === undefined
        ? `could not lock ${dir}`
        : `${dir} is in use by ${holder}; stop it or use another data directory ` +
            `(if no local KMS uses it, delete ${lockPath})`,
    );
  }
}

/**
 * The store on disk: one file, replaced atomically (temp file, fsync, rename,
 * fsync of the directory), so a crash leaves the old store or the new one,
 * never half of one. A lock file keeps a second process off the same directory.
 */
export class StoreFile {
  private writing: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly lockPath: string,
    private protection: Protection | undefined,
  ) {}

  /** Opens (creating when missing) the store in `dir`; returns the file and what it held. */
  static async open(
    dir: string,
    passphrase: string | undefined,
  ): Promise<{ file: StoreFile; snapshot: StoreSnapshot | undefined; wasUnprotected: boolean }> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, STORE_FILE_NAME);
    const lockPath = join(dir, LOCK_FILE_NAME);
    await takeLock(lockPath, dir);
    try {
      const text = await readIfPresent(path);
      const decoded = text === undefined ? undefined : await decodeStoreFile(text, passphrase, path);
      let protection = decoded?.protection;
      if (!protection && passphrase !== undefined) protection = await newProtection(passphrase);
      const wasUnprotected = decoded !== undefined && decoded.protection === undefined;
      return { file: new StoreFile(path, lockPath, protection), snapshot: decoded?.snapshot, wasUnprotected };
    } catch (error) {
      await rm(lockPath, { force: true });
      throw error;
    }
  }

  get isProtected(): boolean {
    return this.protection !== undefined;
  }

  /**
   * Writes the state that `snapshot` returns when the write starts. Calls made
   * while a write runs share one follow-up write, so a burst of changes costs
   * two writes, and each caller resolves once its change is on disk.
   */
  save(snapshot: () => StoreSnapshot): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.writing
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.writeAtomically(encodeStoreFile(snapshot(), this.protection));
      });
    this.queued = next;
    this.writing = next;
    return next;
  }

  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
    await rm(this.lockPath, { force: true });
  }

  private async writeAtomically(text: string): Promise<void> {
    const temp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.path);
    await syncDirectory(join(this.path, '..'));
  }
}

async function takeLock(lockPath: string, dir: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readIfPresent(lockPath)) ?? '');
      if (Number.isInteger(holder) && holder > 0 && isRunning(holder)) {
        const who = holder === process.pid ? 'this process (another local KMS in it)' : `process ${holder}`;
        throw new StoreLockedError(dir, who, lockPath);
      }
      // The holder died without cleaning up: the lock is stale.
      await rm(lockPath, { force: true });
    }
  }
  throw new StoreLockedError(dir, undefined, lockPath);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Makes the rename itself durable; some platforms cannot open a directory, and lose nothing but that. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // fsync of a directory is not supported everywhere (Windows); the rename is still atomic.
  }
}
