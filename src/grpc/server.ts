import { Server, ServerCredentials, setLogger, status as Code } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from 'pino';
import type { TlsCredentials } from '../http/security/tls.js';
import type { KeyService } from '../keys/service.js';
import type { AccessControl } from './access.js';
import { RequestTimeoutError } from './errors.js';
import { GrpcHealth } from './health.js';
import { packageDefinition } from './proto.js';
import { rkmsService } from './service.js';
import { serverOptionsOf, type GrpcLimits } from './transport/limits.js';
import { GrpcListener } from './transport/listener.js';
import { receiveDeadline } from './transport/receive-deadline.js';

export interface GrpcServerOptions {
  keys: KeyService;
  logger: Logger;
  /** Whether this replica serves (not while starting or draining), for the health service. */
  serving: () => boolean | Promise<boolean>;
  /** How long calls in flight may finish at close before they are cancelled. */
  shutdownTimeoutMs: number;
  /** Plaintext unless given: then TLS (and mTLS) with HTTP's certificate and client CAs, reloaded with them. */
  tls?: TlsCredentials | undefined;
  /** Authentication, authorization, rate limits and the audit trail of every key call (src/grpc/security/). */
  access: AccessControl;
  /** Timeouts and bounds of connections and calls (src/grpc/transport/limits.ts). */
  limits: GrpcLimits;
  /** How often an open health Watch re-checks readiness. */
  healthWatchIntervalMs?: number | undefined;
}

export interface GrpcServer {
  /** Binds and starts serving; resolves with the address it listens on, `host:port`. */
  listen(host: string, port: number): Promise<string>;
  /** NOT_SERVING, then lets calls in flight finish (within the shutdown timeout), then cancels the rest. */
  close(): Promise<void>;
}

/** rkms.v1.Rkms, grpc.health.v1.Health and server reflection (for grpcurl) on one gRPC server. */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  // grpc-js reports its own errors (a port in use, a broken connection) on stderr; keep the log one JSON stream.
  const grpcLog = options.logger.child({ component: 'grpc-js' });
  const line = (args: unknown[]) => args.map(String).join(' ');
  setLogger({
    error: (...args: unknown[]) => {
      grpcLog.warn(line(args));
    },
    info: (...args: unknown[]) => {
      grpcLog.info(line(args));
    },
    debug: (...args: unknown[]) => {
      grpcLog.debug(line(args));
    },
  });
  const { limits } = options;
  // Calls reach these closures only once the listener, made right below, hands grpc-js a connection.
  const rkms = rkmsService({ ...options, peers: { socketOf: (peer) => listener.socketOf(peer) } });
  const server = new Server({
    ...serverOptionsOf(limits),
    interceptors: [
      receiveDeadline({
        timeoutMs: limits.receiveTimeoutMs,
        callStarted: (peer) => {
          listener.callStarted(peer);
        },
        timedOut: async (path, metadata, peer) =>
          (await rkms.timedOut(path, metadata, peer, limits.receiveTimeoutMs)) ?? {
            code: Code.DEADLINE_EXCEEDED,
            details: new RequestTimeoutError(limits.receiveTimeoutMs).message,
          },
      }),
    ],
  });
  const listener = new GrpcListener(
    server.createConnectionInjector(ServerCredentials.createInsecure()),
    limits,
    options.tls,
    options.logger,
  );
  server.addService(rkms.definition, rkms.implementation);
  const health = new GrpcHealth({
    serving: options.serving,
    ...(options.healthWatchIntervalMs ? { watchIntervalMs: options.healthWatchIntervalMs } : {}),
  });
  health.addToServer(server);
  new ReflectionService(packageDefinition).addToServer(server);
  let closed: Promise<void> | undefined;

  return {
    listen: (host, port) => listener.listen(host, port),
    close() {
      closed ??= shutDown(server, health, listener, options.shutdownTimeoutMs, options.logger);
      return closed;
    },
  };
}

async function shutDown(
  server: Server,
  health: GrpcHealth,
  listener: GrpcListener,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  health.stop();
  listener.stopAccepting();
  let timer: NodeJS.Timeout | undefined;
  const drained = new Promise<boolean>((resolve) => {
    server.tryShutdown(() => {
      resolve(true);
    });
  });
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, timeoutMs);
  });
  const inTime = await Promise.race([drained, timedOut]);
  clearTimeout(timer);
  if (!inTime) {
    logger.warn({ timeoutMs }, 'gRPC calls still running at the shutdown timeout: cancelled');
    server.forceShutdown();
  }
  listener.destroyAll();
}
