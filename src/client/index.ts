/**
 * `rkms/client`: data keys from RKMS's replicas, and envelope encryption with them.
 * docs/client.md describes the options, the retry policy and the envelope format.
 */
export { RkmsClient } from './client.js';
export type { KeyStatus } from './bodies.js';
export { ENVELOPE_OVERHEAD, ENVELOPE_VERSION, type Bytes } from './envelope.js';
export { EnvelopeError, RkmsConfigError, RkmsError, type RkmsErrorType } from './errors.js';
export type { CacheOptions, CallOptions, RetryOptions, RkmsClientOptions, TokenSource } from './options.js';
