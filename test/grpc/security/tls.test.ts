import { writeFile } from 'node:fs/promises';
import { status as Code } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenSha256 } from '../../../src/auth/token.js';
import type { Pem, TestPki } from '../../support/certs.js';
import {
  GRPC,
  listenGrpc,
  RkmsGrpcClient,
  tlsCredentials,
  type TlsClientOptions,
} from '../../support/grpc.js';
import { httpsCall } from '../../support/https.js';
import type { RunningService, Stack } from '../../support/stack.js';
import { serialOf, startTlsStack, type TlsStack } from '../../support/tls-stack.js';

let tls: TlsStack;
let token: string;
let pki: TestPki;
let foreign: TestPki;
let serverPem: Pem;
let stack: Stack;
let rkms: RunningService;
let address: string;
let certPath: string;
let keyPath: string;
let bearer: Record<string, string>;
const clients: RkmsGrpcClient[] = [];

beforeAll(async () => {
  tls = await startTlsStack('grpc-tls');
  ({ token, pki, foreign, serverPem, stack, certPath, keyPath } = tls);
  bearer = { authorization: `Bearer ${token}` };
  rkms = await stack.startService(GRPC);
  address = await listenGrpc(rkms.service);
});

afterAll(async () => {
  for (const client of clients) client.close();
  await tls.close();
});

/** A TLS client of the service (or of `to`), trusting the test CA unless told otherwise. */
function client(options: Partial<TlsClientOptions> = {}, to = address): RkmsGrpcClient {
  const made = new RkmsGrpcClient(to, tlsCredentials({ ca: pki.ca.cert, ...options }));
  clients.push(made);
  return made;
}

describe('gRPC over TLS', () => {
  it('serves TLS with HTTP’s certificate; a token authenticates, plaintext gets no answer', async () => {
    const serials: string[] = [];
    const outcome = await client({ onServerCertificate: (serial) => serials.push(serial) }).getKey(
      'tls-1',
      bearer,
    );
    expect(outcome.codeName).toBe('OK');
    expect(serials).toEqual([serialOf(serverPem)]);
    const viaHttps = await httpsCall(rkms.url.replace(/^http:/, 'https:'), 'GET', '/key?id=tls-1', {
      ca: pki.ca.cert,
      headers: bearer,
    });
    expect(viaHttps.body).toEqual(outcome.message);
    expect((await client().getKey('tls-1')).codeName).toBe('UNAUTHENTICATED');
    const plaintext = new RkmsGrpcClient(address);
    clients.push(plaintext);
    const refused = await plaintext.getKey('tls-1', bearer);
    expect(refused.code).toBe(Code.UNAVAILABLE);
    expect(refused.message).toBeUndefined();
    expect(refused.errorType).toBeUndefined();
  });

  it('authenticates a client by the subject or SAN of a certificate its CA signed (mutual TLS), as HTTP does', async () => {
    const billing = client(await pki.client('/CN=billing/O=Example'));
    expect((await billing.getKey('billing/1')).codeName).toBe('OK');
    expect(await billing.getKey('svc/1')).toMatchObject({
      code: Code.PERMISSION_DENIED,
      details: 'client billing may not use the id "svc/1": its ids are ["billing/*"]',
    });
    const svc = client(await pki.client('/CN=whatever', 'URI:spiffe://example.test/svc'));
    expect((await svc.getKey('svc/1')).codeName).toBe('OK');

    const unknown = client(await pki.client('/CN=billing/O=Other'));
    expect(await unknown.getKey('billing/1')).toMatchObject({
      code: Code.UNAUTHENTICATED,
      errorType: 'Unauthorized',
      details: 'the client certificate names no configured client (cert_subject, cert_san)',
    });
    // The right subject, signed by a CA RKMS does not trust, is no identity at all.
    const forged = client(await foreign.client('/CN=billing/O=Example'));
    const rejected = await forged.getKey('billing/1');
    expect(rejected.code).toBe(Code.UNAUTHENTICATED);
    expect(rejected.details).toMatch(
      /^the client certificate was not signed by a CA of server\.tls\.ca \([A-Z_]+\)/,
    );
    // Without a certificate or a token, the call is told it needs one, as on HTTP.
    const bare = client();
    expect((await bare.getKey('billing/1')).details).toMatch(/^this RKMS requires authentication/);
    // A token works beside a certificate, and wins, as on HTTP.
    expect((await unknown.getKey('svc/2', bearer)).codeName).toBe('OK');
  });

  it('serves a renewed certificate to new connections once reloaded, and keeps open connections', async () => {
    const before: string[] = [];
    const open = client({ onServerCertificate: (serial) => before.push(serial) });
    expect((await open.getKey('tls-2', bearer)).codeName).toBe('OK');
    expect(before).toEqual([serialOf(serverPem)]);
    const renewed = await pki.server('grpc-renewed');
    await writeFile(keyPath, renewed.key);
    await writeFile(certPath, renewed.cert);
    // The reload a file change or SIGHUP starts (the watch itself: test/http/security/tls*.test.ts).
    await rkms.service.security.reload();
    expect(await serialSeen()).toBe(serialOf(renewed));
    // The connection opened before the renewal still answers, without a new handshake.
    expect((await open.getKey('tls-2', bearer)).codeName).toBe('OK');
    expect(before).toEqual([serialOf(serverPem)]);
  });

  it('keeps serving the current certificate when the new files do not load (reload, as on SIGHUP)', async () => {
    const current = await serialSeen();
    await writeFile(keyPath, 'not a key');
    await rkms.service.security.reload();
    expect(await serialSeen()).toBe(current);
    const next = await pki.server('grpc-after-sighup');
    await writeFile(keyPath, next.key);
    await writeFile(certPath, next.cert);
    await rkms.service.security.reload();
    expect(await serialSeen()).toBe(serialOf(next));
  });

  it('serves TLS without client certificates when [server.tls] has no ca', async () => {
    const plain = await stack.startService({
      ...GRPC,
      server: { ...stack.config.server, tls: { cert: serverPem.certPath, key: serverPem.keyPath } },
      auth: {
        allow_anonymous: false,
        clients: [{ name: 'app', token_sha256: tokenSha256(token), ids: ['*'], actions: ['get'] }],
      },
    });
    const to = await listenGrpc(plain.service);
    expect((await client({}, to).getKey('tls-1', bearer)).codeName).toBe('OK');
    // A certificate is not asked for, so it identifies nobody.
    const billing = client(await pki.client('/CN=billing/O=Example'), to);
    expect((await billing.getKey('tls-1')).codeName).toBe('UNAUTHENTICATED');
  });
});

/** The serial number of the certificate a new connection gets. */
async function serialSeen(): Promise<string> {
  const seen: string[] = [];
  const fresh = new RkmsGrpcClient(
    address,
    tlsCredentials({ ca: pki.ca.cert, onServerCertificate: (serial) => seen.push(serial) }),
  );
  try {
    expect((await fresh.getKey('tls-serial', bearer)).codeName).toBe('OK');
  } finally {
    fresh.close();
  }
  return seen[0] ?? '';
}
