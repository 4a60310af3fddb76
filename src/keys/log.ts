import type { BaseLogger } from 'pino';

/** What the key service logs with: the request's logger, so each line carries its request id. */
export type Log = Pick<BaseLogger, 'info' | 'warn' | 'error'>;
