import { X509Certificate } from 'node:crypto';
import { copyFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TlsCredentials } from '../../../src/http/security/tls.js';
import { auditedLogger } from '../../support/audit.js';
import { createPki, type Pem, type TestPki } from '../../support/certs.js';
import { until } from '../../support/until.js';

/**
 * The file watch itself, on a bare TLS server with a short interval (RKMS looks every 2 s):
 * what cert-manager does to a mounted Secret is served to new connections without a signal.
 * The services' tests (tls.test.ts over HTTP and gRPC) cover what a reload serves.
 */
const WATCH_INTERVAL_MS = 25;
let pki: TestPki;
let first: Pem;
let certPath: string;
let keyPath: string;
let credentials: TlsCredentials;
let server: Server;
let port: number;

beforeAll(async () => {
  pki = await createPki('rkms-tls-watch');
  first = await pki.server('watch-first');
  certPath = path.join(pki.dir, 'watched.crt');
  keyPath = path.join(pki.dir, 'watched.key');
  await copyFile(first.certPath, certPath);
  await copyFile(first.keyPath, keyPath);
  credentials = await TlsCredentials.load({ cert: certPath, key: keyPath }, auditedLogger('tls-watch'), {
    watchIntervalMs: WATCH_INTERVAL_MS,
  });
  server = createServer(credentials.serverOptions(), (socket) => socket.end());
  credentials.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  credentials.close();
  await new Promise((resolve) => server.close(resolve));
  await pki.close();
});

/** The serial number of the certificate a new connection is served. */
function servedSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: pki.ca.cert, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

const serialOf = (pem: Pem) => new X509Certificate(pem.cert).serialNumber;
const every = { intervalMs: WATCH_INTERVAL_MS };

describe('TlsCredentials watching its files', () => {
  it('serves renewed files to new connections, after a key written before its certificate', async () => {
    const reload = vi.spyOn(credentials, 'reload');
    expect(await servedSerial()).toBe(serialOf(first));
    const renewed = await pki.server('watch-renewed');
    // A renewal lands file by file: a new key with the old certificate does not load, and is not served.
    await writeFile(keyPath, renewed.key);
    await until('the watch reloads after the key changed', () => reload.mock.calls.length > 0, every);
    await reload.mock.results[0]?.value;
    expect(await servedSerial()).toBe(serialOf(first));
    await writeFile(certPath, renewed.cert);
    await until(
      'new connections get the renewed certificate',
      async () => (await servedSerial()) === serialOf(renewed),
      every,
    );
    reload.mockRestore();
  });

  it('stops watching when closed', async () => {
    const reload = vi.spyOn(credentials, 'reload');
    credentials.close();
    const later = await pki.server('watch-after-close');
    await writeFile(keyPath, later.key);
    await writeFile(certPath, later.cert);
    // Nothing to wait for but time: twenty intervals in which a watch would have fired.
    await sleep(20 * WATCH_INTERVAL_MS);
    expect(reload).not.toHaveBeenCalled();
  });
});
