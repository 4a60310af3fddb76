import { pino, type Logger } from 'pino';

/**
 * Every member of a request or response that can carry key material or a
 * secret derived from it: plaintexts, the private key of a data key pair, a
 * MAC (callers use them as derived keys) and the messages given to Sign,
 * Verify and the MAC operations. Calls are logged at trace level with their
 * bodies, so these are censored by the logger itself, whatever logger the
 * caller hands in.
 */
export const KEY_MATERIAL_PATHS = [
  'request.Plaintext',
  'response.Plaintext',
  'response.PrivateKeyPlaintext',
  'request.Message',
  'request.Mac',
  'response.Mac',
];

export function localKmsLogger(parent: Logger | undefined): Logger {
  const base = parent ?? pino({ level: 'silent' });
  return base.child(
    { component: 'local-kms' },
    { redact: { paths: KEY_MATERIAL_PATHS, censor: '[Redacted]' } },
  );
}
