import { createHash, timingSafeEqual } from 'node:crypto';
import type { Auth, Action } from '../config/security-schema.js';
import { ACTIONS } from '../config/security-schema.js';
import type Type from 'typebox';
import { compileIdPattern, type IdMatcher } from './id-pattern.js';

/** Who is calling, once authenticated: a declared client, or everyone when none is declared. */
export interface Client {
  readonly name: string;
  /** No clients are declared: every caller is this one client, limited per address. */
  readonly anonymous: boolean;
  readonly actions: ReadonlySet<Action>;
  /** The `ids` patterns as written, for messages. */
  readonly ids: readonly string[];
  mayUse(id: string): boolean;
  /** Overrides of `[rate_limit]` for this client. */
  readonly requestsPerMinute: number | undefined;
  readonly createsPerMinute: number | undefined;
}

export type AuthMethod = 'token' | 'certificate' | 'anonymous';

/** What a caller presented: the Authorization header, and a client certificate the TLS layer verified. */
export interface Credentials {
  authorization?: string | undefined;
  certificate?: VerifiedCertificate | undefined;
  /** A client certificate TLS did not verify against `[server.tls] ca`: why (node:tls's authorizationError). */
  rejectedCertificate?: string | undefined;
}

/** The parts of a verified peer certificate that identify a client (node:tls PeerCertificate's shape). */
export interface VerifiedCertificate {
  subject?: Record<string, string | string[] | undefined>;
  subjectaltname?: string | undefined;
}

export type Authentication =
  | { ok: true; client: Client; method: AuthMethod }
  | { ok: false; problem: 'missing' | 'malformed' | 'unknown'; message: string };

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i;

interface DeclaredClient extends Client {
  readonly tokenHash: Buffer | undefined;
  readonly certSubject: readonly [string, string][] | undefined;
  readonly certSan: string | undefined;
}

export const ANONYMOUS: Client = {
  name: 'anonymous',
  anonymous: true,
  actions: new Set(ACTIONS),
  ids: ['*'],
  mayUse: () => true,
  requestsPerMinute: undefined,
  createsPerMinute: undefined,
};

/**
 * The clients of `[[auth.clients]]`, and how a caller proves to be one of them: a bearer
 * token whose SHA-256 is declared (compared in constant time against every client's), or
 * a client certificate that TLS verified against `[server.tls] ca` and whose subject or
 * SAN a client names. With no client declared, every caller is anonymous.
 */
export class ClientRegistry {
  private readonly clients: readonly DeclaredClient[];

  constructor(config: Type.Static<typeof Auth>) {
    this.clients = config.clients.map((client) => {
      const patterns: IdMatcher[] = client.ids.map(compileIdPattern);
      return {
        name: client.name,
        anonymous: false,
        actions: new Set(client.actions),
        ids: client.ids,
        mayUse: (id: string) => patterns.some((matches) => matches(id)),
        requestsPerMinute: client.requests_per_minute,
        createsPerMinute: client.creates_per_minute,
        tokenHash: client.token_sha256 === undefined ? undefined : Buffer.from(client.token_sha256, 'hex'),
        certSubject: client.cert_subject === undefined ? undefined : parseSubject(client.cert_subject),
        certSan: client.cert_san,
      };
    });
  }

  /** Whether any caller is let in without credentials (no client declared). */
  get open(): boolean {
    return this.clients.length === 0;
  }

  get size(): number {
    return this.clients.length;
  }

  authenticate({ authorization, certificate, rejectedCertificate }: Credentials): Authentication {
    if (this.open) return { ok: true, client: ANONYMOUS, method: 'anonymous' };
    if (authorization !== undefined) {
      const token = BEARER.exec(authorization)?.[1];
      if (token === undefined) {
        return {
          ok: false,
          problem: 'malformed',
          message: 'the Authorization header is not a bearer token: send Authorization: Bearer <token>',
        };
      }
      const client = this.byToken(token);
      return client
        ? { ok: true, client, method: 'token' }
        : { ok: false, problem: 'unknown', message: 'the bearer token is not one of the configured clients' };
    }
    const byCertificate = certificate && this.byCertificate(certificate);
    if (byCertificate) return { ok: true, client: byCertificate, method: 'certificate' };
    if (!certificate && rejectedCertificate !== undefined) {
      return { ok: false, problem: 'unknown', message: rejectedCertificateMessage(rejectedCertificate) };
    }
    return {
      ok: false,
      problem: certificate ? 'unknown' : 'missing',
      message: certificate
        ? 'the client certificate names no configured client (cert_subject, cert_san)'
        : 'this RKMS requires authentication: send Authorization: Bearer <token> (rkms token creates one)',
    };
  }

  /** Every declared hash is compared, so the time taken says nothing about which one (or whether one) matched. */
  private byToken(token: string): DeclaredClient | undefined {
    const presented = createHash('sha256').update(token, 'utf8').digest();
    let found: DeclaredClient | undefined;
    for (const client of this.clients) {
      if (client.tokenHash && timingSafeEqual(client.tokenHash, presented) && !found) found = client;
    }
    return found;
  }

  /** The first client, in the order of the file, whose cert_subject and cert_san the certificate has. */
  private byCertificate(certificate: VerifiedCertificate): DeclaredClient | undefined {
    return this.clients.find(
      (client) =>
        (client.certSubject !== undefined || client.certSan !== undefined) &&
        (client.certSubject === undefined || subjectHas(certificate, client.certSubject)) &&
        (client.certSan === undefined || sanHas(certificate, client.certSan)),
    );
  }
}

/** OpenSSL's verification errors that mean the certificate's issuer is none of the trusted CAs. */
const UNKNOWN_ISSUER = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

/** Why a presented client certificate identifies no one, with TLS's own reason for the operator. */
function rejectedCertificateMessage(reason: string): string {
  const problem = UNKNOWN_ISSUER.has(reason)
    ? 'was not signed by a CA of server.tls.ca'
    : reason === 'CERT_HAS_EXPIRED'
      ? 'has expired'
      : reason === 'CERT_NOT_YET_VALID'
        ? 'is not valid yet'
        : 'did not verify against server.tls.ca';
  return `the client certificate ${problem} (${reason}), so it identifies no client: present one that server.tls.ca signed, or send Authorization: Bearer <token>`;
}

/** `CN=billing, O=Example\, Inc.` → [['CN', 'billing'], ['O', 'Example, Inc.']]. */
export function parseSubject(subject: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const part of subject.split(/(?<!\\),/)) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    pairs.push([
      part.slice(0, at).trim().toUpperCase(),
      part
        .slice(at + 1)
        .trim()
        .replace(/\\(.)/g, '$1'),
    ]);
  }
  return pairs;
}

function subjectHas(certificate: VerifiedCertificate, wanted: readonly [string, string][]): boolean {
  const subject = new Map(
    Object.entries(certificate.subject ?? {}).map(([name, value]) => [name.toUpperCase(), value]),
  );
  return wanted.every(([name, value]) => {
    const actual = subject.get(name);
    return Array.isArray(actual) ? actual.includes(value) : actual === value;
  });
}

/** `DNS:billing.internal` against the certificate's `DNS:a, URI:b, IP Address:c`; DNS names ignore case. */
function sanHas(certificate: VerifiedCertificate, wanted: string): boolean {
  const normalize = (entry: string) => {
    const at = entry.indexOf(':');
    const type = entry.slice(0, at).trim().toUpperCase();
    const value = entry.slice(at + 1).trim();
    return `${type}:${type === 'DNS' ? value.toLowerCase() : value}`;
  };
  const target = normalize(wanted);
  return (certificate.subjectaltname ?? '')
    .split(/, (?=[A-Za-z ]+:)/)
    .some((entry) => normalize(entry) === target);
}
