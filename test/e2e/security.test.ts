import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate as X509 } from 'node:crypto';
import { tokenSha256 } from '../../src/auth/token.js';
import { tokenCommand } from '../../src/cli/token.js';
import { auditLogStream, auditTrailPath } from '../support/audit.js';
import { createPki, type TestPki } from '../support/certs.js';
import { killAllClis, runCli, runInProcess } from '../support/cli.js';
import { RkmsGrpcClient, tlsCredentials } from '../support/grpc.js';
import { httpsCall } from '../support/https.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let dir: string;
let pki: TestPki;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rkms-e2e-security-'));
  pki = await createPki('rkms-e2e-tls');
});
afterAll(async () => {
  killAllClis();
  await rm(dir, { recursive: true, force: true });
  await pki.close();
});

const EMBEDDED = (name: string) => `
[server]
port = 0
[kms]
regions = ["us-east-1", "us-east-2", "us-west-1"]
[dynamodb]
region = "us-east-1"
[embedded]
kms = true
dynamodb = true
data_dir = ${JSON.stringify(path.join(dir, `data-${name}`))}
`;

/** `rkms token ...` to completion; stdin is given when asked for. */
function token(
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'token', ...args],
      {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const audit = auditLogStream('cli-token');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      audit.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      audit.write(chunk);
    });
    child.stdin.end(stdin ?? '');
    child.on('exit', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

describe('rkms token', () => {
  it('prints a new token and the [[auth.clients]] entry that holds only its hash', async () => {
    const { code, stdout } = await token([
      '--name',
      'billing',
      '--ids',
      'billing/*,shared-report',
      '--actions',
      'get,create',
    ]);
    expect(code).toBe(0);
    const secret = /^(rkms_[A-Za-z0-9_-]{43})$/m.exec(stdout)?.[1] ?? '';
    expect(Buffer.from(secret.slice(5), 'base64url')).toHaveLength(32);
    expect(stdout).toContain(
      [
        '[[auth.clients]]',
        'name = "billing"',
        `token_sha256 = "${tokenSha256(secret)}"`,
        'ids = ["billing/*", "shared-report"]',
        'actions = ["get", "create"]',
      ].join('\n'),
    );
  });

  // Its refusals of bad arguments are tested in process: test/cli/token.test.ts.
  it('hashes a token it is given on stdin', async () => {
    const given = 'an-existing-token-from-a-secret-manager';
    const { code, stdout } = await token(['--stdin', '--name', 'ci', '--ids', 'ci/*'], `${given}\n`);
    expect(code).toBe(0);
    expect(stdout).not.toContain(given);
    expect(stdout).toContain(`token_sha256 = "${tokenSha256(given)}"`);
  });
});

describe('rkms serve, locked down with rkms token and a config snippet', () => {
  it('serves HTTPS and gRPC over TLS to the token’s client only, audits to its file, and reopens it and the certificate on SIGHUP', async () => {
    // What `rkms token` prints (the test above runs it as a process), made in process.
    const made = await runInProcess(tokenCommand(), [
      '--name',
      'app',
      '--ids',
      'app/*',
      '--actions',
      'get,create,delete,restore',
    ]);
    const secret = /^(rkms_\S+)$/m.exec(made.stdout)?.[1] ?? '';
    const first = await pki.server('e2e-first');
    const certPath = path.join(pki.dir, 'e2e-live.crt');
    const keyPath = path.join(pki.dir, 'e2e-live.key');
    await copyFile(first.certPath, certPath);
    await copyFile(first.keyPath, keyPath);
    const trail = auditTrailPath('e2e-serve');
    const config = path.join(dir, 'locked.toml');
    await writeFile(
      config,
      `${EMBEDDED('locked')}
[grpc]
port = 0

[server.tls]
cert = ${JSON.stringify(certPath)}
key = ${JSON.stringify(keyPath)}

[audit]
path = ${JSON.stringify(trail)}

${made.stdout.slice(made.stdout.indexOf('[[auth.clients]]'))}`,
    );
    const server = runCli(['serve', '--config', config]);
    const [, url = ''] = await server.waitFor(/RKMS listening on (https:\/\/\S+)/);
    const [, grpcAddress = ''] = await server.waitFor(/gRPC \(TLS\): (127\.0\.0\.1:\d+) /);
    expect(server.stderr()).toContain(
      `grpcurl -H "authorization: Bearer $RKMS_TOKEN" -d '{"id":"my-first-key"}' ${grpcAddress} rkms.v1.Rkms/GetKey`,
    );
    expect(server.stderr()).toContain('clients: 1 declared');
    expect(server.stderr()).toContain(`audit trail: ${trail}`);
    expect(server.stderr()).toContain(
      `curl -H "Authorization: Bearer $RKMS_TOKEN" '${url}/key?id=my-first-key'`,
    );

    const tls = { ca: pki.ca.cert };
    const auth = { ...tls, headers: { authorization: `Bearer ${secret}` } };
    const served = await httpsCall(url, 'GET', '/key?id=app%2F1', auth);
    expect(served.status).toBe(200);
    expect((await httpsCall(url, 'GET', '/key?id=app%2F1', tls)).status).toBe(401);
    expect((await httpsCall(url, 'GET', '/key?id=other', auth)).status).toBe(403);
    expect((await httpsCall(url, 'GET', '/healthz', tls)).status).toBe(200);
    const grpcSerials: string[] = [];
    const grpc = new RkmsGrpcClient(
      grpcAddress,
      tlsCredentials({ ca: pki.ca.cert, onServerCertificate: (serial) => grpcSerials.push(serial) }),
    );
    try {
      const viaGrpc = await grpc.getKey('app/1', { authorization: `Bearer ${secret}` });
      expect(viaGrpc.message).toEqual(served.body);
      expect((await grpc.getKey('app/1')).codeName).toBe('UNAUTHENTICATED');
      expect((await grpc.getKey('other', { authorization: `Bearer ${secret}` })).codeName).toBe(
        'PERMISSION_DENIED',
      );
    } finally {
      grpc.close();
    }
    expect(grpcSerials).toEqual([new X509(first.cert).serialNumber]);

    // Log rotation: the file is moved away, SIGHUP, and the next line goes to a new file at the path.
    await rename(trail, `${trail}.1.log`);
    const renewed = await pki.server('e2e-renewed');
    await copyFile(renewed.keyPath, keyPath);
    await copyFile(renewed.certPath, certPath);
    server.child.kill('SIGHUP');
    let after = await httpsCall(url, 'GET', '/key?id=app%2F1', auth);
    for (let i = 0; i < 50 && after.serverCertSerial !== new X509(renewed.cert).serialNumber; i++) {
      await sleep(100);
      after = await httpsCall(url, 'GET', '/key?id=app%2F1', auth);
    }
    expect(after.serverCertSerial).toBe(new X509(renewed.cert).serialNumber);
    expect(after.body.key).toBe(served.body.key);
    // The gRPC server got the renewed certificate with HTTP's.
    const renewedSerials: string[] = [];
    const afterGrpc = new RkmsGrpcClient(
      grpcAddress,
      tlsCredentials({ ca: pki.ca.cert, onServerCertificate: (serial) => renewedSerials.push(serial) }),
    );
    try {
      const viaGrpc = await afterGrpc.getKey('app/1', { authorization: `Bearer ${secret}` });
      expect(viaGrpc.message).toEqual(served.body);
    } finally {
      afterGrpc.close();
    }
    expect(renewedSerials).toEqual([new X509(renewed.cert).serialNumber]);
    const rotated = await readFile(`${trail}.1.log`, 'utf8');
    expect(rotated).toContain(`"request_id":"${String(served.headers.get('x-request-id'))}"`);
    expect(rotated).toMatch(
      /"action":"get","id":"app\/1","outcome":"served".*"transport":"grpc","grpc_status":"OK"/,
    );
    expect(await readFile(trail, 'utf8')).toContain(
      `"request_id":"${String(after.headers.get('x-request-id'))}"`,
    );
    expect(await server.stop('SIGTERM')).toBe(0);
  });

  it('refuses to listen beyond loopback with no clients, and says how to allow it (exit code 2)', async () => {
    const config = path.join(dir, 'exposed.toml');
    await writeFile(config, EMBEDDED('exposed').replace('port = 0', 'port = 0\nhost = "0.0.0.0"'));
    const server = runCli(['serve', '--config', config]);
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toContain('no [[auth.clients]] are declared');
    expect(server.stderr()).toContain('set [auth] allow_anonymous = true');
  });

  // The embedded default stays open to curl without a token on loopback: test/e2e/cli.test.ts.
});
