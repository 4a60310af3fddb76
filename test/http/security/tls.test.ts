import { writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pem, TestPki } from '../../support/certs.js';
import { httpsCall } from '../../support/https.js';
import type { RunningService, Stack } from '../../support/stack.js';
import { serialOf, startTlsStack, type TlsStack } from '../../support/tls-stack.js';
import { until } from '../../support/until.js';

let tls: TlsStack;
let token: string;
let pki: TestPki;
let foreign: TestPki;
let serverPem: Pem;
let stack: Stack;
let rkms: RunningService;
let base: string;
let certPath: string;
let keyPath: string;

beforeAll(async () => {
  tls = await startTlsStack('http-tls');
  ({ token, pki, foreign, serverPem, stack, certPath, keyPath } = tls);
  rkms = await stack.startService();
  base = rkms.url.replace(/^http:/, 'https:');
});

afterAll(async () => {
  await tls.close();
});

describe('TLS', () => {
  it('serves HTTPS with the configured certificate, and a token still authenticates', async () => {
    const reply = await httpsCall(base, 'GET', '/key?id=tls-1', {
      ca: pki.ca.cert,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.id).toBe('tls-1');
    const refused = await httpsCall(base, 'GET', '/key?id=tls-1', { ca: pki.ca.cert });
    expect(refused.status).toBe(401);
    expect(refused.body.error_message).toMatch(/^this RKMS requires authentication/);
    // Plain HTTP on the TLS port gets no answer it could mistake for one.
    await expect(fetch(`${rkms.url}/healthz`)).rejects.toThrow();
  });

  it('authenticates a client by the subject or SAN of a certificate its CA signed (mutual TLS)', async () => {
    const billing = await pki.client('/CN=billing/O=Example');
    const svc = await pki.client('/CN=whatever', 'URI:spiffe://example.test/svc');
    const ok = await httpsCall(base, 'GET', '/key?id=billing%2F1', { ca: pki.ca.cert, ...billing });
    expect(ok.status).toBe(200);
    const outside = await httpsCall(base, 'GET', '/key?id=svc%2F1', { ca: pki.ca.cert, ...billing });
    expect(outside.status).toBe(403);
    expect((await httpsCall(base, 'GET', '/key?id=svc%2F1', { ca: pki.ca.cert, ...svc })).status).toBe(200);

    const unknown = await pki.client('/CN=billing/O=Other');
    const nobody = await httpsCall(base, 'GET', '/key?id=billing%2F1', { ca: pki.ca.cert, ...unknown });
    expect(nobody.status).toBe(401);
    expect(nobody.body.error_message).toBe(
      'the client certificate names no configured client (cert_subject, cert_san)',
    );
    // The right subject, signed by a CA RKMS does not trust, is no identity at all.
    const forged = await foreign.client('/CN=billing/O=Example');
    const rejected = await httpsCall(base, 'GET', '/key?id=billing%2F1', { ca: pki.ca.cert, ...forged });
    expect(rejected.status).toBe(401);
    expect(rejected.body.error_message).toMatch(
      /^the client certificate was not signed by a CA of server\.tls\.ca \([A-Z_]+\)/,
    );
  });

  it('serves a renewed certificate to new connections when its files change, and keeps open connections', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const headers = { authorization: `Bearer ${token}` };
    try {
      const before = await httpsCall(base, 'GET', '/healthz', { ca: pki.ca.cert, headers, agent });
      expect(before.serverCertSerial).toBe(serialOf(serverPem));
      const renewed = await pki.server('renewed');
      await writeFile(keyPath, renewed.key);
      await writeFile(certPath, renewed.cert);
      // The one test of a running service's own file watch (every 2 s): no signal, no reload() call.
      await until(
        'new connections get the renewed certificate',
        async () =>
          (await httpsCall(base, 'GET', '/healthz', { ca: pki.ca.cert })).serverCertSerial ===
          serialOf(renewed),
        { intervalMs: 100 },
      );
      // The keep-alive connection opened before the renewal still answers, with the certificate it began with.
      const after = await httpsCall(base, 'GET', '/key?id=tls-2', { ca: pki.ca.cert, headers, agent });
      expect(after.status).toBe(200);
      expect(after.serverCertSerial).toBe(serialOf(serverPem));
    } finally {
      agent.destroy();
    }
  });

  it('keeps serving the current certificate when the new files do not load (reload, as on SIGHUP)', async () => {
    const current = (await httpsCall(base, 'GET', '/healthz', { ca: pki.ca.cert })).serverCertSerial;
    await writeFile(keyPath, 'not a key');
    await rkms.service.security.reload();
    expect((await httpsCall(base, 'GET', '/healthz', { ca: pki.ca.cert })).serverCertSerial).toBe(current);
    const next = await pki.server('after-sighup');
    await writeFile(keyPath, next.key);
    await writeFile(certPath, next.cert);
    await rkms.service.security.reload();
    expect((await httpsCall(base, 'GET', '/healthz', { ca: pki.ca.cert })).serverCertSerial).toBe(
      serialOf(next),
    );
  });

  it('refuses to start with a certificate and key that do not belong together', async () => {
    const other = await pki.server('mismatch');
    await expect(
      stack.startService({
        server: { ...stack.config.server, tls: { cert: other.certPath, key: serverPem.keyPath } },
      }),
    ).rejects.toThrow(/server\.tls: the certificate and key in .* cannot be used/);
  });
});
