import Type from 'typebox';

/**
 * The HTTP/2 settings' defaults. The settings are optional in the type, so that a config
 * built in code with only `port` still type-checks; the loader fills these in, and
 * grpcLimitsOf (src/grpc/transport/limits.ts) falls back on them.
 */
export const GRPC_DEFAULTS = {
  max_concurrent_streams: 100,
  max_connection_age_ms: 300_000,
  keepalive_time_ms: 30_000,
  keepalive_timeout_ms: 10_000,
} as const;

/**
 * `[grpc]`: the gRPC service beside the HTTP one. Off unless `port` is set. Its waits
 * are bounded by `[server]`'s where they mean the same (headers_timeout_ms for a new
 * connection's first call, receive_timeout_ms for a call's request, keep_alive_timeout_ms
 * for an idle connection, max_connections); what only HTTP/2 has is set here.
 */
export const GrpcSection = Type.Object(
  {
    // Like [server] port, a number or a string; 0 picks a free port.
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
    // Unset: the [server] host.
    host: Type.Optional(Type.String({ minLength: 1 })),
    // How long calls in flight may finish at shutdown before they are cancelled.
    shutdown_timeout_ms: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 5_000,
      description: 'milliseconds',
    }),
    // Calls one connection may have in progress at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).
    max_concurrent_streams: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10_000, default: GRPC_DEFAULTS.max_concurrent_streams }),
    ),
    // A connection is asked to go (GOAWAY) after this long, so long-lived clients spread over
    // replicas, like [server] max_requests_per_socket; 0 = never.
    max_connection_age_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 86_400_000,
        default: GRPC_DEFAULTS.max_connection_age_ms,
        description: 'milliseconds',
      }),
    ),
    // After this long without a frame from the client, RKMS pings it; 0 = no pings.
    keepalive_time_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3_600_000,
        default: GRPC_DEFAULTS.keepalive_time_ms,
        description: 'milliseconds',
      }),
    ),
    // A ping unanswered for this long closes the connection: the client is gone.
    keepalive_timeout_ms: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 600_000,
        default: GRPC_DEFAULTS.keepalive_timeout_ms,
        description: 'milliseconds',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);
