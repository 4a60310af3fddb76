import Type from 'typebox';

/** `[grpc]`: the gRPC service beside the HTTP one. Off unless `port` is set. */
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
  },
  { additionalProperties: false, default: {} },
);
