import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { tokenSha256 } from '../../src/auth/token.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { loadChart, mergeValues, renderChart, type Release } from './helm.js';

/**
 * The repository's Helm chart, the values the chart tests render it with, and ways into
 * what comes out: a manifest by kind, a path in it, the config.toml as the service reads it.
 */

export type Dict = Record<string, unknown>;

export const CHART_DIR = path.resolve(import.meta.dirname, '../../deploy/helm/rkms');
export const chart = loadChart(CHART_DIR);

/** The helm test's token (the chart keeps it in a Secret and declares its SHA-256 as client helm-test). */
export const TEST_TOKEN = 'rkms_helm-test-0123456789abcdefghijklmnopqrstuv';
export const PAYMENTS_TOKEN = 'rkms_payments-0123456789abcdefghijklmnopqrstuvw';

export const PAYMENTS: Dict = {
  name: 'payments',
  tokenSha256: tokenSha256(PAYMENTS_TOKEN),
  ids: ['payments/*'],
  actions: ['get', 'create'],
};

/** A client known by its certificate; the subject has a comma and a backslash to quote. */
export const LEDGER: Dict = {
  name: 'ledger',
  certSubject: 'CN=ledger, O=Example\\, Inc.',
  certSan: 'DNS:ledger.internal',
  ids: ['ledger/*', 'shared?'],
  actions: ['get', 'create', 'delete', 'restore'],
  requestsPerMinute: 1200,
  createsPerMinute: 0,
};

/** The least a release needs now: clients, and the helm test's token. */
export const LOCKED: Dict = { auth: { clients: [PAYMENTS] }, tests: { token: TEST_TOKEN } };

export const ANONYMOUS: Dict = { auth: { allowAnonymous: true } };

/** A locked-down release with every optional part on. */
export const FULL: Dict = {
  image: { repository: '111122223333.dkr.ecr.us-east-1.amazonaws.com/rkms', tag: '1.2.3' },
  serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/rkms' } },
  server: {
    requestTimeoutMs: 5000,
    headersTimeoutMs: 4000,
    receiveTimeoutMs: 8000,
    keepAliveTimeoutMs: 75_000,
    maxConnections: 2048,
    maxRequestsPerSocket: 500,
    allowedHosts: ['rkms.example.com', 'rkms.rkms.svc'],
  },
  auth: { clients: [PAYMENTS, LEDGER] },
  tls: { enabled: true, cert: 'CERT PEM', key: 'KEY PEM', ca: 'CA PEM' },
  grpc: {
    enabled: true,
    port: 9090,
    shutdownTimeoutMs: 8000,
    maxConcurrentStreams: 200,
    maxConnectionAgeMs: 600_000,
    keepaliveTimeMs: 20_000,
    keepaliveTimeoutMs: 5_000,
  },
  metrics: { port: 9100 },
  audit: { destination: 'file', file: { existingClaim: 'rkms-audit' } },
  rateLimit: { requestsPerMinute: 30_000, createsPerMinute: 300 },
  networkPolicy: {
    clients: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } } }],
    metricsClients: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    egress: { enabled: true },
  },
  autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 12, targetMemoryUtilizationPercentage: 80 },
  sweep: { enabled: true },
  repair: { enabled: true, args: ['--verify'] },
  tests: { token: TEST_TOKEN },
  extraEnv: [{ name: 'RKMS_LOG_LEVEL', value: 'debug' }],
  imagePullSecrets: [{ name: 'registry' }],
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'rkms', effect: 'NoSchedule' }],
  priorityClassName: 'high',
};

/** The values with these overrides on top, merged as Helm merges a second values file. */
export function withValues(base: Dict, overrides: Dict): Dict {
  return mergeValues(base, overrides) as Dict;
}

/** `helm template rkms deploy/helm/rkms -n rkms` with exactly these values over values.yaml. */
export function render(values: Dict): Release {
  return renderChart(chart, { values, releaseName: 'rkms', namespace: 'rkms' });
}

export function find(release: Release, kind: string, name?: string): Dict {
  const found = release.manifests.find(
    (m) => m.doc.kind === kind && (name === undefined || (m.doc.metadata as Dict).name === name),
  );
  if (!found) throw new Error(`no ${kind} ${name ?? ''} rendered`);
  return found.doc;
}

export function kinds(release: Release): string[] {
  return release.manifests.map((m) => String(m.doc.kind)).sort();
}

/** A path into a manifest, e.g. at(doc, 'spec.template.spec.containers.0.ports'). */
export function at(doc: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, k) => (v as Dict | undefined)?.[k], doc);
}

export function configToml(release: Release): string {
  return String((find(release, 'ConfigMap').data as Dict)['config.toml']);
}

/** The chart's Secret, decoded. */
export function secretData(release: Release): Record<string, string> {
  const data = (find(release, 'Secret').data ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}

/** The config.toml as the service loads it from /etc/rkms: its own loader, so every name and bound is its own. */
export function loadRenderedConfig(toml: string): Config {
  return parseConfig(parseToml(toml), { baseDir: '/etc/rkms' });
}
