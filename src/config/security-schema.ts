import path from 'node:path';
import Type from 'typebox';

/**
 * The settings of issue #7: who may call RKMS ([auth]), the audit trail ([audit]), rate
 * limits ([rate_limit]), and the HTTP server's limits, Host check and TLS (in [server]).
 * They sit apart from schema.ts so that the rest of the config reads as before.
 */

const Millis = (fallback: number, minimum: number) =>
  Type.Integer({ minimum, maximum: 600_000, default: fallback, description: 'milliseconds' });

/** A host name as a Host header carries it, or `*.` and a domain for its subdomains. */
const HostName = Type.String({
  pattern: '^(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9.-]{0,252})?$|^\\[[0-9A-Fa-f:.]+\\]$',
  description: 'a host name such as rkms.example.com, *.example.com or an address',
});

const Tls = Type.Object(
  {
    cert: Type.String({ minLength: 1, description: 'PEM file: the server certificate (and its chain)' }),
    key: Type.String({ minLength: 1, description: 'PEM file: the private key of the certificate' }),
    ca: Type.Optional(
      Type.String({ minLength: 1, description: 'PEM file: the CAs whose client certificates are accepted' }),
    ),
  },
  { additionalProperties: false },
);

/** Spread into `[server]`: limits that keep a connection from being held, and who may be named in Host. */
export const ServerSecuritySettings = {
  // Node's headersTimeout: the request line and headers must arrive within it.
  headers_timeout_ms: Millis(5_000, 100),
  // Node's requestTimeout: the whole request (headers and body) must arrive within it.
  receive_timeout_ms: Millis(10_000, 100),
  // Longer than a load balancer's idle timeout (AWS ALB: 60 s), so RKMS never closes a connection it is about to reuse.
  keep_alive_timeout_ms: Millis(65_000, 0),
  max_connections: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1024 }),
  // 0 = no limit. A bound spreads long-lived client connections over replicas.
  max_requests_per_socket: Type.Integer({ minimum: 0, default: 1000 }),
  allowed_hosts: Type.Optional(Type.Array(HostName, { minItems: 1, uniqueItems: true })),
  tls: Type.Optional(Tls),
};

export const ACTIONS = ['get', 'create', 'delete', 'restore'] as const;

const AuthClient = Type.Object(
  {
    // Shows in audit lines, logs and metric labels: short and plain.
    name: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
      description: 'a name of letters, digits, ".", "_" and "-" (at most 64)',
    }),
    token_sha256: Type.Optional(
      Type.String({
        pattern: '^[0-9A-Fa-f]{64}$',
        description: 'the hex SHA-256 of the bearer token (`rkms token` prints it)',
      }),
    ),
    cert_subject: Type.Optional(Type.String({ minLength: 3 })),
    cert_san: Type.Optional(Type.String({ minLength: 3 })),
    ids: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { minItems: 1 }),
    actions: Type.Array(Type.Enum([...ACTIONS]), { minItems: 1, uniqueItems: true }),
    requests_per_minute: Type.Optional(Type.Integer({ minimum: 0 })),
    creates_per_minute: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const Auth = Type.Object(
  {
    allow_anonymous: Type.Boolean({ default: false }),
    clients: Type.Array(AuthClient, { default: [] }),
  },
  { additionalProperties: false, default: {} },
);

export const Audit = Type.Object(
  {
    // Absent: stdout, one line each beside (never inside) the service log's lines.
    path: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false, default: {} },
);

export const RateLimit = Type.Object(
  {
    // Per client, or per address for anonymous callers; 0 = no limit.
    requests_per_minute: Type.Integer({ minimum: 0, default: 60_000 }),
    creates_per_minute: Type.Integer({ minimum: 0, default: 600 }),
  },
  { additionalProperties: false, default: {} },
);

export type Action = (typeof ACTIONS)[number];

interface SecurityConfig {
  server: {
    host: string;
    headers_timeout_ms: number;
    receive_timeout_ms: number;
    tls?: { cert: string; key: string; ca?: string } | undefined;
  };
  auth: Type.Static<typeof Auth>;
  audit: Type.Static<typeof Audit>;
}

/** Rules between fields; returns a message naming the field, or undefined. */
export function securityConfigProblem(config: SecurityConfig): string | undefined {
  const { server, auth } = config;
  if (server.headers_timeout_ms > server.receive_timeout_ms) {
    return (
      `server.headers_timeout_ms: ${server.headers_timeout_ms} is longer than ` +
      `server.receive_timeout_ms (${server.receive_timeout_ms}), which bounds the whole request, headers included`
    );
  }
  if (auth.allow_anonymous && auth.clients.length > 0) {
    return (
      'auth.allow_anonymous: anonymous callers are allowed only when no [[auth.clients]] are declared; ' +
      'remove one or the other'
    );
  }
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (const [index, client] of auth.clients.entries()) {
    const at = `auth.clients[${index}]`;
    if (names.has(client.name)) return `${at}.name: another client is named ${client.name}`;
    names.add(client.name);
    if (
      client.token_sha256 === undefined &&
      client.cert_subject === undefined &&
      client.cert_san === undefined
    ) {
      return (
        `${at}: client ${client.name} has no credential; ` +
        'give token_sha256 (see rkms token), or cert_subject or cert_san with [server.tls] ca'
      );
    }
    if (client.token_sha256 !== undefined) {
      const hash = client.token_sha256.toLowerCase();
      if (hashes.has(hash)) return `${at}.token_sha256: another client has the same token`;
      hashes.add(hash);
    }
    if (
      (client.cert_subject !== undefined || client.cert_san !== undefined) &&
      server.tls?.ca === undefined
    ) {
      return `${at}: cert_subject and cert_san need [server.tls] ca, the CA that signs client certificates`;
    }
  }
  return undefined;
}

/** TLS files and the audit file resolve against the config file's directory, like the data directory. */
export function resolveSecurityPaths(config: SecurityConfig, baseDir: string): void {
  const { tls } = config.server;
  if (tls) {
    tls.cert = path.resolve(baseDir, tls.cert);
    tls.key = path.resolve(baseDir, tls.key);
    if (tls.ca !== undefined) tls.ca = path.resolve(baseDir, tls.ca);
  }
  if (config.audit.path !== undefined) config.audit.path = path.resolve(baseDir, config.audit.path);
}
