import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { lineOutput } from './line-output.js';
import type { Config } from './schema.js';

/**
 * Log fields that could ever carry key material. Nothing in RKMS logs a key on purpose;
 * these paths are the net under that rule, for a careless `log.info({ key })` or a
 * logged AWS request or reply.
 */
export const REDACTED_PATHS = [
  'key',
  '*.key',
  'plaintext',
  '*.plaintext',
  'Plaintext',
  '*.Plaintext',
  '*.*.Plaintext',
  'dataKey',
  '*.dataKey',
  'req.headers.authorization',
  'req.headers["x-amz-security-token"]',
];

const LEVEL_ALIASES: Record<string, string> = { warning: 'warn', panic: 'fatal' };

export function pinoLevel(level: Config['logger']['level']): string {
  return LEVEL_ALIASES[level] ?? level;
}

export function loggerOptions(level: Config['logger']['level']): LoggerOptions {
  return {
    level: pinoLevel(level),
    redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
  };
}

/** The service's logger: JSON lines on stdout (written once per event-loop turn), unless told otherwise. */
export function createLogger(
  level: Config['logger']['level'],
  destination: DestinationStream = lineOutput(1),
): Logger {
  return pino(loggerOptions(level), destination);
}
