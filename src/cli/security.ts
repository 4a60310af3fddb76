import type { Logger } from 'pino';
import { ClientRegistry } from '../auth/clients.js';
import { SecurityEvents } from '../auth/events.js';
import { RateLimiter } from '../auth/rate-limiter.js';
import { AuditTrail } from '../audit/trail.js';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { isLoopbackName } from '../shared/hosts.js';
import type { SecurityParts } from '../http/security/index.js';
import { TlsCredentials } from '../http/security/tls.js';

/** The parts of access control the HTTP and gRPC servers share, and what SIGHUP refreshes. */
export interface Security extends SecurityParts {
  /** Reads the TLS files again and reopens the audit file (SIGHUP). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the audit trail and reads the TLS files: a destination or a certificate that
 * cannot be used stops RKMS at start.
 */
export async function createSecurity(config: Config, logger: Logger): Promise<Security> {
  const audit = await AuditTrail.open(config.audit.path, logger).catch((err: unknown) => {
    throw new Error(
      `audit.path: cannot open ${config.audit.path ?? 'stdout'} for appending: ` +
        ((err as NodeJS.ErrnoException).code ?? String(err)),
      { cause: err },
    );
  });
  let tls: TlsCredentials | undefined;
  try {
    tls = config.server.tls ? await TlsCredentials.load(config.server.tls, logger) : undefined;
  } catch (err) {
    await audit.close();
    throw err;
  }
  const events = new SecurityEvents();
  return {
    clients: new ClientRegistry(config.auth),
    audit,
    events,
    limiter: new RateLimiter(config.rate_limit, events),
    tls,
    async reload() {
      await Promise.all([
        tls?.reload(),
        audit.reopen().catch((err: unknown) => {
          logger.error({ err }, 'could not reopen the audit trail');
        }),
      ]);
    },
    async close() {
      tls?.close();
      await audit.close();
    },
  };
}

/**
 * Refuses to listen beyond this machine with nobody to authenticate: whoever reaches the
 * port — HTTP's or gRPC's — could read, create and delete every key. `[auth] allow_anonymous = true`
 * says it is meant.
 */
export function checkExposure(config: Config): void {
  if (config.auth.clients.length > 0 || config.auth.allow_anonymous) return;
  const listeners: [setting: string, host: string][] = [['server.host', config.server.host]];
  if (config.grpc.port !== undefined) {
    listeners.push([
      config.grpc.host === undefined ? 'server.host' : 'grpc.host',
      config.grpc.host ?? config.server.host,
    ]);
  }
  const exposed = listeners.find(([, host]) => !isLoopbackName(host));
  if (!exposed) return;
  const [setting, host] = exposed;
  const port = setting === 'grpc.host' ? 'the gRPC port' : 'the port';
  throw new ConfigError(
    `${setting}: RKMS listens on ${host}, beyond this machine, and no [[auth.clients]] are declared, ` +
      `so anyone who reaches ${port} could read, create and delete every key. ` +
      'Declare clients (rkms token prints one), ' +
      'or set [auth] allow_anonymous = true to allow anonymous callers explicitly.',
  );
}
