import type { ServerOptions } from '@grpc/grpc-js';
import { GRPC_DEFAULTS } from '../../config/grpc.js';
import type { Config } from '../../config/schema.js';

/** How long a gRPC connection and its calls may take, and how many there may be. */
export interface GrpcLimits {
  /** A new connection's TLS handshake and first call must arrive within this ([server] headers_timeout_ms). */
  firstCallTimeoutMs: number;
  /** A call's request must arrive within this once its headers have ([server] receive_timeout_ms). */
  receiveTimeoutMs: number;
  /** A connection without calls is closed (GOAWAY) after this ([server] keep_alive_timeout_ms). */
  idleTimeoutMs: number;
  /** Connections at once on the gRPC port, counted apart from HTTP's ([server] max_connections). */
  maxConnections: number;
  maxConcurrentStreams: number;
  /** 0 = never. */
  maxConnectionAgeMs: number;
  /** How long calls in progress may finish once a connection is asked to go. */
  maxConnectionAgeGraceMs: number;
  /** 0 = no pings. */
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
}

/** `[grpc]`, and `[server]`'s bounds where they mean the same for HTTP/2. */
export function grpcLimitsOf({ server, grpc }: Pick<Config, 'server' | 'grpc'>): GrpcLimits {
  return {
    firstCallTimeoutMs: server.headers_timeout_ms,
    receiveTimeoutMs: server.receive_timeout_ms,
    // HTTP's 0 (no keep-alive) would close a connection before its first call: a new one gets as long.
    idleTimeoutMs: Math.max(server.keep_alive_timeout_ms, server.headers_timeout_ms),
    maxConnections: server.max_connections,
    maxConcurrentStreams: grpc.max_concurrent_streams ?? GRPC_DEFAULTS.max_concurrent_streams,
    maxConnectionAgeMs: grpc.max_connection_age_ms ?? GRPC_DEFAULTS.max_connection_age_ms,
    // Room for a call to arrive and be worked on, as HTTP's idle bound gives a request.
    maxConnectionAgeGraceMs: server.receive_timeout_ms + server.request_timeout_ms,
    keepaliveTimeMs: grpc.keepalive_time_ms ?? GRPC_DEFAULTS.keepalive_time_ms,
    keepaliveTimeoutMs: grpc.keepalive_timeout_ms ?? GRPC_DEFAULTS.keepalive_timeout_ms,
  };
}

/** No request message is larger than an id: like the HTTP API's 16 KiB body limit. */
const MAX_REQUEST_BYTES = 16 * 1024;

/** grpc-js's own options for what it enforces itself: idle and aged connections, pings, streams. */
export function serverOptionsOf(limits: GrpcLimits): ServerOptions {
  return {
    'grpc.max_receive_message_length': MAX_REQUEST_BYTES,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    'grpc.max_connection_idle_ms': limits.idleTimeoutMs,
    ...(limits.maxConnectionAgeMs > 0
      ? {
          'grpc.max_connection_age_ms': limits.maxConnectionAgeMs,
          'grpc.max_connection_age_grace_ms': limits.maxConnectionAgeGraceMs,
        }
      : {}),
    ...(limits.keepaliveTimeMs > 0
      ? {
          'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
          'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
        }
      : {}),
  };
}
