import type { Logger } from 'pino';
import { deadlineAfter } from '../resilience/deadline.js';
import type { Log } from './log.js';

/** What a caller may add to one call. */
export interface CallOptions {
  /** The request's log, so that the call's lines carry its request id. */
  log?: Log | undefined;
  /**
   * Runs right before this call would create the id's key (never for an existing key);
   * throws to refuse: a caller who may not create keys, or one over its creation limit.
   */
  beforeCreate?: (() => Promise<void>) | undefined;
}

/** What one call's store and KMS calls share: its deadline, its log, its creation check. */
export interface Call {
  signal: AbortSignal;
  /** The request's log, else the service's. */
  log: Log | undefined;
  beforeCreate: (() => Promise<void>) | undefined;
}

/** A call that starts now: its deadline runs from here. */
export function startCall(options: CallOptions, timeoutMs: number, logger: Logger | undefined): Call {
  return {
    signal: deadlineAfter(timeoutMs),
    log: options.log ?? logger,
    beforeCreate: options.beforeCreate,
  };
}
