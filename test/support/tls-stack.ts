import { X509Certificate } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { newToken, tokenSha256 } from '../../src/auth/token.js';
import { createPki, type Pem, type TestPki } from './certs.js';
import { testConfig } from './config.js';
import { startStack, type Stack } from './stack.js';

/** A stack whose replicas serve TLS from files a test may overwrite, and the PKI that signed them. */
export interface TlsStack {
  stack: Stack;
  pki: TestPki;
  /** A CA RKMS does not trust. */
  foreign: TestPki;
  /** The certificate the files hold at start. */
  serverPem: Pem;
  /** The files `[server.tls]` names: a renewal overwrites them. */
  certPath: string;
  keyPath: string;
  /** The token of client `app` (any id; get, create). */
  token: string;
  close(): Promise<void>;
}

/**
 * What the HTTP and gRPC TLS tests share: `[server.tls]` with the test CA as client CA, and
 * three clients — `billing` by certificate subject (ids billing/*), `svc` by certificate SAN
 * (svc/*), `app` by token.
 */
export async function startTlsStack(label: string): Promise<TlsStack> {
  const token = newToken();
  const pki = await createPki(label);
  const foreign = await pki.foreignCa();
  const serverPem = await pki.server();
  const certPath = path.join(pki.dir, 'live.crt');
  const keyPath = path.join(pki.dir, 'live.key');
  await copyFile(serverPem.certPath, certPath);
  await copyFile(serverPem.keyPath, keyPath);
  const stack = await startStack(
    testConfig({
      server: { tls: { cert: certPath, key: keyPath, ca: pki.ca.certPath } },
      auth: {
        clients: [
          {
            name: 'billing',
            cert_subject: 'CN=billing, O=Example',
            ids: ['billing/*'],
            actions: ['get', 'create'],
          },
          {
            name: 'svc',
            cert_san: 'URI:spiffe://example.test/svc',
            ids: ['svc/*'],
            actions: ['get', 'create'],
          },
          { name: 'app', token_sha256: tokenSha256(token), ids: ['*'], actions: ['get', 'create'] },
        ],
      },
    }),
    label,
  );
  return {
    stack,
    pki,
    foreign,
    serverPem,
    certPath,
    keyPath,
    token,
    async close() {
      await stack.close();
      await pki.close();
    },
  };
}

/** The serial number of a certificate, as a TLS peer reports it. */
export function serialOf(pem: Pem): string {
  return new X509Certificate(pem.cert).serialNumber;
}
