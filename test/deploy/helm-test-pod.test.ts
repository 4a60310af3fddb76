import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditTrailPath } from '../support/audit.js';
import { createPki, type TestPki } from '../support/certs.js';
import { killAllClis, runCli, type CliProcess } from '../support/cli.js';
import { getKey } from '../support/http.js';
import { httpsCall } from '../support/https.js';
import {
  ANONYMOUS,
  LOCKED,
  PAYMENTS,
  PAYMENTS_TOKEN,
  TEST_TOKEN,
  at,
  configToml,
  find,
  render,
  secretData,
  withValues,
  type Dict,
} from './chart.js';
import type { Release } from './helm.js';

/**
 * `helm test` without a cluster: the release's files are laid out as the pods would see
 * them (the ConfigMap and the Secret's items at their mount paths, under a temporary
 * directory), `rkms serve` starts on the rendered config.toml, and the test pod's own
 * script runs with the pod's environment — its token from the Secret, its CA from the
 * Secret's volume. Only the address changes: the Service's DNS name becomes the server's.
 */

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let pki: TestPki;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rkms-helm-test-'));
  pki = await createPki('rkms-helm-test-tls');
});

afterAll(async () => {
  killAllClis();
  await rm(dir, { recursive: true, force: true });
  await pki.close();
});

/** The embedded store and KMS in place of the terraform output, so the release runs here. */
function embeddedConfig(name: string): string {
  return [
    '[kms]\nregions = ["us-east-1", "us-east-2", "us-west-1"]',
    '[dynamodb]\nregion = "us-east-1"\ntable_name = "rkms_keys"',
    `[embedded]\nkms = true\ndynamodb = true\ndata_dir = ${JSON.stringify(path.join(dir, name, 'data'))}`,
  ].join('\n\n');
}

/** A path in a pod, under this release's directory. */
function inPod(root: string, podPath: string): string {
  return path.join(root, podPath);
}

/**
 * Writes what the Deployment mounts at /etc/rkms (config.toml and the Secret's TLS files),
 * and starts `rkms serve` on it, on a free loopback port; the audit file goes where the
 * log audit reads it.
 */
async function startRelease(
  name: string,
  release: Release,
): Promise<{ url: string; auditFile: string; server: CliProcess }> {
  const root = path.join(dir, name);
  const podSpec = at(find(release, 'Deployment'), 'spec.template.spec') as Dict;
  const mount = (at(podSpec, 'containers.0.volumeMounts') as Dict[]).find((m) => m.name === 'config');
  const configDir = inPod(root, String(mount?.mountPath));
  const auditFile = auditTrailPath(`helm-${name}`);
  const toml = configToml(release)
    .replaceAll('"/etc/rkms/', `"${configDir}/`)
    .replace('"/var/log/rkms/audit.log"', JSON.stringify(auditFile));
  await mkdir(configDir, { recursive: true });
  await writeFile(path.join(configDir, 'config.toml'), toml);
  const volume = (podSpec.volumes as Dict[]).find((v) => v.name === 'config');
  for (const source of at(volume, 'projected.sources') as Dict[]) {
    const secret = source.secret as { items: { key: string; path: string }[] } | undefined;
    for (const item of secret?.items ?? []) {
      const file = path.join(configDir, item.path);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, secretData(release)[item.key] ?? '');
    }
  }
  const server = runCli(['serve', '--config', path.join(configDir, 'config.toml')], {
    RKMS_HOST: '127.0.0.1',
    RKMS_PORT: '0',
  });
  const [, url] = await server.waitFor(/RKMS listening on (https?:\/\/\S+)/);
  return { url: url ?? '', auditFile, server };
}

/** Runs the test pod's script with the pod's environment (Secrets and volumes resolved), against `url`. */
async function runTestPod(name: string, release: Release, url: string, env: Dict = {}): Promise<Run> {
  const root = path.join(dir, name, 'test-pod');
  const pod = find(release, 'Pod');
  const container = at(pod, 'spec.containers.0') as { command: string[]; args: string[]; env: Dict[] };
  const secrets = release.manifests.some((m) => m.doc.kind === 'Secret') ? secretData(release) : {};
  for (const mount of (at(container, 'volumeMounts') as Dict[] | undefined) ?? []) {
    const volume = (at(pod, 'spec.volumes') as Dict[]).find((v) => v.name === mount.name);
    const secret = volume?.secret as { secretName: string; items: { key: string; path: string }[] };
    expect(secret.secretName).toBe('rkms');
    for (const item of secret.items) {
      const file = path.join(inPod(root, String(mount.mountPath)), item.path);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, secrets[item.key] ?? '');
    }
  }
  const podEnv: Record<string, string> = {};
  for (const entry of container.env) {
    const ref = at(entry, 'valueFrom.secretKeyRef') as { name: string; key: string } | undefined;
    if (ref) {
      expect(ref.name).toBe('rkms');
      podEnv[String(entry.name)] = secrets[ref.key] ?? '';
    } else {
      const value = String(entry.value);
      podEnv[String(entry.name)] = value.startsWith('/') ? inPod(root, value) : value;
    }
  }
  const [node, ...flags] = container.command;
  expect(node).toBe('node');
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...flags, ...container.args], {
      env: { ...process.env, ...podEnv, RKMS_URL: url, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function auditLines(file: string): Promise<Dict[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Dict);
}

describe('helm test against a running rkms', () => {
  it('anonymous, plain HTTP: GETs one key twice and prints only its length', async () => {
    const release = render(withValues(ANONYMOUS, { config: embeddedConfig('anonymous') }));
    const { url, server } = await startRelease('anonymous', release);
    const run = await runTestPod('anonymous', release, url);
    expect(run.stdout).toMatch(/^ok: http:\/\/127\.0\.0\.1:\d+ returned the same 32-byte key twice\n$/);
    const key = await getKey(url, 'rkms-helm-test');
    expect(key.status).toBe(200);
    expect(run.stdout + run.stderr).not.toContain(String(key.body.key));
    expect(await server.stop('SIGTERM')).toBe(0);
  });

  it('locked down, HTTPS with a client CA, audit file: passes as helm-test, which may use nothing else', async () => {
    const certificate = await pki.server();
    const ledger = await pki.client('/CN=ledger', 'DNS:ledger.internal');
    const values = withValues(LOCKED, {
      config: embeddedConfig('locked'),
      auth: {
        clients: [
          PAYMENTS,
          { name: 'ledger', certSan: 'DNS:ledger.internal', ids: ['ledger/*'], actions: ['get', 'create'] },
        ],
      },
      tls: { enabled: true, cert: certificate.cert, key: certificate.key, ca: pki.ca.cert },
      audit: { destination: 'file' },
    });
    const release = render(values);
    const { url, auditFile, server } = await startRelease('locked', release);
    expect(url).toMatch(/^https:/);

    const run = await runTestPod('locked', release, url);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^ok: https:\/\/127\.0\.0\.1:\d+ returned the same 32-byte key twice\n$/);
    const asTest = await httpsCall(url, 'GET', '/key?id=rkms-helm-test', {
      ca: pki.ca.cert,
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(asTest.status).toBe(200);
    expect(run.stdout).not.toContain(String(asTest.body.key));
    const trail = await auditLines(auditFile);
    expect(trail.filter((line) => line.client === 'helm-test' && line.id === 'rkms-helm-test')).toEqual([
      expect.objectContaining({ type: 'audit', auth: 'token', action: 'get', status: 200 }),
      expect.objectContaining({ type: 'audit', auth: 'token', action: 'get', status: 200 }),
      expect.objectContaining({ type: 'audit', auth: 'token', action: 'get', status: 200 }),
    ]);

    // It verified the server's certificate: without the CA from the Secret it fails.
    const unverified = await runTestPod('locked', release, url, { NODE_EXTRA_CA_CERTS: '' });
    expect(unverified.code).toBe(1);
    expect(unverified.stderr).toMatch(/failed: fetch failed/);

    // Or it may be told not to.
    const skipping = render(withValues(values, { tests: { tls: { insecureSkipVerify: true } } }));
    const unchecked = await runTestPod('locked', skipping, url, { NODE_EXTRA_CA_CERTS: '' });
    expect(unchecked.stdout).toMatch(/^ok: https:/);

    // The helm-test client is for the test id only, and the test needs its token.
    const elsewhere = await runTestPod('locked', release, url, { RKMS_TEST_ID: 'payments/1' });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/^failed: GET \/key\?id=payments\/1 answered 403: /);
    const tokenless = await runTestPod('locked', release, url, { RKMS_TOKEN: '' });
    expect(tokenless.stderr).toMatch(/answered 401: /);

    // The other clients, as the chart declared them: by token, and by certificate.
    const payments = await httpsCall(url, 'GET', '/key?id=payments/1', {
      ca: pki.ca.cert,
      headers: { authorization: `Bearer ${PAYMENTS_TOKEN}` },
    });
    expect(payments.status).toBe(200);
    const byCertificate = await httpsCall(url, 'GET', '/key?id=ledger/1', {
      ca: pki.ca.cert,
      cert: ledger.cert,
      key: ledger.key,
    });
    expect(byCertificate.status).toBe(200);
    expect((await auditLines(auditFile)).at(-1)).toMatchObject({ client: 'ledger', auth: 'certificate' });
    expect(await server.stop('SIGTERM')).toBe(0);
  });
});
