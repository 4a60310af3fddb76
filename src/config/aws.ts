import http from 'node:http';
import https from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity } from '@smithy/types';

export interface AwsTimeouts {
  /** Per attempt: the SDK has no timeout of its own, so a hung endpoint would hang the request. */
  timeout_ms: number;
  connect_timeout_ms: number;
}

/** The HTTP handler every RKMS AWS client uses: per-attempt timeouts and kept-alive connections. */
export function awsRequestHandler({ timeout_ms, connect_timeout_ms }: AwsTimeouts): NodeHttpHandler {
  return new NodeHttpHandler({
    connectionTimeout: connect_timeout_ms,
    requestTimeout: timeout_ms,
    throwOnRequestTimeout: true,
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 256 }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 256 }),
  });
}

/**
 * Credentials for the embedded local KMS and store, which accept any signature.
 * Real endpoints use the SDK's default credential chain instead.
 */
export const EMBEDDED_CREDENTIALS: AwsCredentialIdentity = {
  accessKeyId: 'rkms-embedded',
  secretAccessKey: 'rkms-embedded',
};

/** A one-line reason for an AWS SDK or network error, without request data. */
export function describeAwsError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: string }).code;
  const name = err.name !== 'Error' ? err.name : code;
  return name && !err.message.includes(name) ? `${name}: ${err.message}` : err.message;
}
