import { Server, ServerCredentials, setLogger } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from 'pino';
import type { KeyService } from '../keys/service.js';
import type { AccessControl } from './access.js';
import { GrpcHealth } from './health.js';
import { packageDefinition } from './proto.js';
import { rkmsService } from './service.js';

export interface GrpcServerOptions {
  keys: KeyService;
  logger: Logger;
  /** Whether this replica serves (not while starting or draining), for the health service. */
  serving: () => boolean;
  /** How long calls in flight may finish at close before they are cancelled. */
  shutdownTimeoutMs: number;
  /** Plaintext unless given (src/grpc/security/credentials.ts: TLS and mTLS with HTTP's certificate). */
  credentials?: ServerCredentials | undefined;
  /** Authentication, authorization, rate limits and the audit trail of every key call (src/grpc/security/). */
  access: AccessControl;
  /** How often an open health Watch re-checks readiness. */
  healthWatchIntervalMs?: number | undefined;
}

export interface GrpcServer {
  /** Binds and starts serving; resolves with the address it listens on, `host:port`. */
  listen(host: string, port: number): Promise<string>;
  /** NOT_SERVING, then lets calls in flight finish (within the shutdown timeout), then cancels the rest. */
  close(): Promise<void>;
}

/** No request message is larger than an id: like the HTTP API's 16 KiB body limit. */
const MAX_REQUEST_BYTES = 16 * 1024;

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
  const server = new Server({ 'grpc.max_receive_message_length': MAX_REQUEST_BYTES });
  const rkms = rkmsService(options);
  server.addService(rkms.definition, rkms.implementation);
  const health = new GrpcHealth({
    serving: options.serving,
    ...(options.healthWatchIntervalMs ? { watchIntervalMs: options.healthWatchIntervalMs } : {}),
  });
  health.addToServer(server);
  new ReflectionService(packageDefinition).addToServer(server);
  const credentials = options.credentials ?? ServerCredentials.createInsecure();
  let closed: Promise<void> | undefined;

  return {
    listen(host, port) {
      const hostPart = host.includes(':') ? `[${host}]` : host;
      return new Promise((resolve, reject) => {
        server.bindAsync(`${hostPart}:${port}`, credentials, (err, bound) => {
          if (err) reject(err);
          else resolve(`${hostPart}:${bound}`);
        });
      });
    },
    close() {
      closed ??= shutDown(server, health, options.shutdownTimeoutMs, options.logger);
      return closed;
    },
  };
}

async function shutDown(
  server: Server,
  health: GrpcHealth,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  health.stop();
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
}
