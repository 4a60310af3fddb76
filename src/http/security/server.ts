import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { expectationFailed } from './client-errors.js';
import type { TlsCredentials } from './tls.js';

export interface ServerLimits {
  headersTimeoutMs: number;
  receiveTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** The longest a connection may see no traffic either way (a client that stops reading its answers). */
  idleTimeoutMs: number;
  maxConnections: number;
}

/**
 * Node checks its request timeouts on this period; its default (30 s) would let a stalled
 * request live 30 s too long.
 */
const MAX_CHECK_INTERVAL_MS = 1_000;

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * The HTTP or HTTPS server under Fastify, with every wait bounded: the headers, the whole
 * request, the TLS handshake, idle keep-alive and idle connections; and with a bound on
 * connections. The Host header is checked by RKMS (with its own error body), not by Node.
 */
export function createServerWith(limits: ServerLimits, tls: TlsCredentials | undefined) {
  return (handler: Handler): Server => {
    const options = {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.receiveTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(
        MAX_CHECK_INTERVAL_MS,
        Math.max(100, limits.headersTimeoutMs / 4),
      ),
      requireHostHeader: false,
    };
    let server: Server;
    if (tls) {
      const secure = createHttpsServer(
        { ...options, ...tls.serverOptions(), handshakeTimeout: limits.headersTimeoutMs },
        handler,
      );
      tls.attach(secure);
      server = secure;
    } else {
      server = createHttpServer(options, handler);
    }
    server.maxConnections = limits.maxConnections;
    server.timeout = limits.idleTimeoutMs;
    server.on('checkExpectation', expectationFailed);
    return server;
  };
}
