import { appendFileSync, createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { inject } from 'vitest';
import { loggerOptions } from '../../src/config/logging.js';

declare module 'vitest' {
  export interface ProvidedContext {
    auditDir: string;
  }
}

/** The directory the log audit reads; see vitest.config.ts. */
export function auditDir(): string {
  return inject('auditDir');
}

const streams: WriteStream[] = [];

/** A file under the audit directory that collects log output, named after `label`. */
export function auditLogStream(label: string): WriteStream {
  const file = path.join(
    auditDir(),
    `${label.replace(/[^a-z0-9-]+/gi, '_')}-${process.pid}-${streams.length}.log`,
  );
  const stream = createWriteStream(file, { flags: 'a' });
  streams.push(stream);
  return stream;
}

let trails = 0;

/**
 * A file under the audit directory for an RKMS audit trail (`[audit] path`), so the log
 * audit reads audit lines too: no key may appear in them either.
 */
export function auditTrailPath(label: string): string {
  return path.join(auditDir(), `trail-${label.replace(/[^a-z0-9-]+/gi, '_')}-${process.pid}-${trails++}.log`);
}

/**
 * The service's real logger configuration (with its redaction) at the most verbose
 * level, writing where the audit will read it.
 */
export function auditedLogger(label: string): Logger {
  return pino({ ...loggerOptions('trace') }, auditLogStream(label));
}

/** Remembers a key a test was handed, for the audit. */
export function recordKey(base64Key: string): void {
  appendFileSync(path.join(auditDir(), `keys-${process.pid}.txt`), `${base64Key}\n`);
}
