import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { errorBody } from '../http/errors.js';
import { hostAllowed, type HostPolicy } from '../shared/hosts.js';
import { requestIdOf } from '../http/request-id.js';
import { clientErrorHandler } from '../http/security/client-errors.js';
import { createServerWith, type ServerLimits } from '../http/security/server.js';
import type { Metrics } from './metrics.js';

export interface MetricsServerOptions {
  metrics: Metrics;
  host: string;
  port: number;
  /** The API port's limits ([server]): a scrape is a small request, bounded the same way. */
  limits: ServerLimits;
  /** The API port's Host policy for this interface (DNS rebinding); undefined answers any name. */
  hostPolicy: HostPolicy | undefined;
  logger: Logger;
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` on a port of its own (`[metrics] port`), so Prometheus can reach it
 * where clients of the key API cannot, and a scrape never competes with key requests.
 * It is the API port's server (timeouts, connection cap, RKMS's error body for Node's
 * client errors, the Host check, `x-request-id`), but always plain HTTP: it serves only
 * counts, no key material and no credentials, and scrapers find it by annotations
 * that speak HTTP. Metrics over TLS: leave the port unset, and the API port serves them.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port, limits, logger } = options;
  const log = logger.child({ component: 'metrics-port' });
  const server: Server = createServerWith(
    limits,
    undefined,
  )((request, response) => {
    answer(request, response, options, log);
  });
  server.on('clientError', clientErrorHandler(log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

function answer(
  request: IncomingMessage,
  response: ServerResponse,
  { metrics, hostPolicy }: MetricsServerOptions,
  log: Logger,
): void {
  const requestId = requestIdOf(request);
  response.setHeader('x-request-id', requestId);
  // A scrape has no body; whatever comes is read and dropped, so the connection can be reused.
  request.resume();
  const fail = (status: number, type: string, message: string, headers: Record<string, string> = {}) => {
    sendJson(response, status, errorBody(type, message, requestId), headers);
  };
  if (request.headers.host === undefined && request.httpVersion !== '1.0') {
    fail(400, 'BadRequest', 'the Host header is required');
    return;
  }
  if (hostPolicy && !hostAllowed(request.headers.host, hostPolicy)) {
    fail(
      421,
      'HostNotAllowed',
      hostPolicy.loopback
        ? 'this metrics port listens on loopback and answers to loopback names only (localhost, 127.0.0.1, [::1]); add the name to server.allowed_hosts'
        : 'the Host header names a host that is not in server.allowed_hosts',
    );
    return;
  }
  if (request.url?.split('?')[0] !== '/metrics') {
    fail(404, 'NotFound', 'this port serves GET /metrics only');
    return;
  }
  if (request.method !== 'GET') {
    fail(405, 'MethodNotAllowed', 'this port serves GET /metrics only', { allow: 'GET' });
    return;
  }
  metrics.text().then(
    (text) => {
      response.writeHead(200, { 'content-type': metrics.contentType });
      response.end(text);
    },
    (err: unknown) => {
      log.error({ err, requestId }, 'could not collect the metrics');
      fail(500, 'InternalError', `could not collect the metrics (request ${requestId}); the log has why`);
    },
  );
}

function sendJson(response: ServerResponse, status: number, body: object, headers: Record<string, string>) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
