/**
 * What a failed call to AWS (KMS or DynamoDB) means, decided once, here. Every decision —
 * blame the region, skip it, replace a copy, retry — reads the kind, never the error's name.
 *
 * - `throttled`: the service is shedding load. Counts against the dependency's health.
 * - `transient`: 5xx, timeouts, refused or reset connections. Counts against its health.
 * - `misconfigured`: the dependency is up but cannot work as configured (access denied,
 *   a missing, disabled or pending-deletion key, a missing table). Skip it and tell an operator.
 * - `rejected`: the dependency refused this input (a damaged ciphertext, one made under
 *   another key): the input is bad, not the dependency.
 * - `cancelled`: we stopped waiting (another region answered, the request's deadline passed).
 *
 * `reason` is safe to show to a caller: it names what happened, never an endpoint, an
 * ARN, an account id or an SDK message. The raw error goes to the log.
 */
export type FailureKind = 'throttled' | 'transient' | 'misconfigured' | 'rejected' | 'cancelled';

export interface Failure {
  kind: FailureKind;
  reason: string;
}

const SERVICE_ERRORS: Record<string, Failure> = {
  ThrottlingException: { kind: 'throttled', reason: 'throttled' },
  LimitExceededException: { kind: 'throttled', reason: 'over a quota' },
  ProvisionedThroughputExceededException: { kind: 'throttled', reason: 'throttled' },
  RequestLimitExceeded: { kind: 'throttled', reason: 'throttled' },
  KMSInternalException: { kind: 'transient', reason: 'internal error' },
  DependencyTimeoutException: { kind: 'transient', reason: 'internal timeout' },
  KeyUnavailableException: { kind: 'transient', reason: 'key temporarily unavailable' },
  InternalServerError: { kind: 'transient', reason: 'internal error' },
  ServiceUnavailable: { kind: 'transient', reason: 'service unavailable' },
  AccessDeniedException: { kind: 'misconfigured', reason: 'access denied' },
  UnrecognizedClientException: { kind: 'misconfigured', reason: 'credentials not recognized' },
  InvalidSignatureException: { kind: 'misconfigured', reason: 'request signature refused' },
  ExpiredTokenException: { kind: 'misconfigured', reason: 'credentials expired' },
  // The SDK's default credential chain found nothing to sign with (no profile, keys or role).
  CredentialsProviderError: { kind: 'misconfigured', reason: 'no AWS credentials found' },
  NotFoundException: { kind: 'misconfigured', reason: 'key not found' },
  DisabledException: { kind: 'misconfigured', reason: 'key disabled' },
  KMSInvalidStateException: { kind: 'misconfigured', reason: 'key state does not allow the call' },
  ResourceNotFoundException: { kind: 'misconfigured', reason: 'table not found' },
  InvalidCiphertextException: { kind: 'rejected', reason: 'ciphertext refused' },
  IncorrectKeyException: { kind: 'rejected', reason: 'ciphertext made under another key' },
  MalformedReplyError: { kind: 'transient', reason: 'malformed reply' },
};

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'timed out connecting',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'endpoint name not found',
  EAI_AGAIN: 'endpoint name lookup failed',
};

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

export function classifyAwsError(err: unknown): Failure {
  const error = (err ?? {}) as ErrorShape;
  const name = error.name ?? '';
  if (name === 'AbortError') return { kind: 'cancelled', reason: 'cancelled' };
  const known = SERVICE_ERRORS[name];
  if (known) return { kind: known.kind, reason: `${known.reason} (${name})` };
  const message = error.message ?? '';
  if (name === 'TimeoutError' && /requestTimeout|inactivity|no activity|timed out waiting/i.test(message)) {
    return { kind: 'transient', reason: 'timed out waiting for a reply' };
  }
  if (name === 'TimeoutError' && /establish a connection|connecting/i.test(message)) {
    return { kind: 'transient', reason: 'timed out connecting' };
  }
  // The SDK calls a reset connection a TimeoutError too: the code says what happened.
  const network = networkCode(error);
  if (network) return { kind: 'transient', reason: NETWORK_ERRORS[network] ?? `network error (${network})` };
  if (name === 'TimeoutError') return { kind: 'transient', reason: 'timed out' };
  if (/socket hang up/i.test(message)) {
    return { kind: 'transient', reason: 'connection closed before a reply' };
  }
  const status = error.$metadata?.httpStatusCode;
  if (error.$fault === 'server' || (status !== undefined && status >= 500)) {
    return { kind: 'transient', reason: `server error${name ? ` (${safeName(name)})` : ''}` };
  }
  if (status === 429) return { kind: 'throttled', reason: 'throttled (HTTP 429)' };
  if (error.$fault === 'client') {
    return { kind: 'misconfigured', reason: `request refused${name ? ` (${safeName(name)})` : ''}` };
  }
  return { kind: 'transient', reason: 'unexpected error' };
}

/** Failures an operator fixes in the credentials RKMS signs with. */
const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
]);

/** Network failures that mean nothing answers where the endpoint points. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * What an operator checks after this failure: the credentials, or the endpoint the call went
 * to (nothing listens there, or its name does not resolve); undefined when neither would help.
 */
export function whatToCheck(err: unknown): 'credentials' | 'endpoint' | undefined {
  const error = (err ?? {}) as ErrorShape;
  if (CREDENTIAL_ERRORS.has(error.name ?? '')) return 'credentials';
  const network = networkCode(error);
  return network !== undefined && UNREACHABLE.has(network) ? 'endpoint' : undefined;
}

/** A one-line description of any error for the log (not for callers: it may hold endpoints). */
export function logDetail(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as ErrorShape).code;
  const prefix = err.name !== 'Error' ? err.name : code;
  return prefix && !err.message.includes(prefix) ? `${prefix}: ${err.message}` : err.message;
}

function networkCode(error: ErrorShape, depth = 0): string | undefined {
  if (error.code && /^E[A-Z_]+$/.test(error.code)) return error.code;
  if (depth < 3 && error.cause && typeof error.cause === 'object') {
    return networkCode(error.cause, depth + 1);
  }
  return undefined;
}

/** Exception names are identifiers; anything else (an odd proxy's reply) is not repeated. */
function safeName(name: string): string {
  return /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(name) ? name : 'unrecognized';
}
