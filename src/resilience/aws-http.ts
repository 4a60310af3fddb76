import http from 'node:http';
import https from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';

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
