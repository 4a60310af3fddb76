import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, runCli } from '../support/cli.js';
import { getKey } from '../support/http.js';
import { TemplateError } from './gotemplate.js';
import { coalescedValues, loadChart, readYaml, renderChart, type Manifest, type Release } from './helm.js';
import { checkFields, validateSchema } from './kubernetes.js';

/**
 * The Helm chart, rendered as `helm template` would (see helm.ts), with the default values
 * and with every optional part switched on; each manifest checked against the Kubernetes
 * API schemas, and the values against values.schema.json as helm install checks them.
 */

type Dict = Record<string, unknown>;

const CHART_DIR = path.resolve(import.meta.dirname, '../../deploy/helm/rkms');
const chart = loadChart(CHART_DIR);

const FULL: Dict = {
  image: { repository: '111122223333.dkr.ecr.us-east-1.amazonaws.com/rkms', tag: '1.2.3' },
  serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/rkms' } },
  server: { requestTimeoutMs: 5000, allowedHosts: ['rkms.rkms.svc'] },
  tls: { enabled: true, cert: 'CERT PEM', key: 'KEY PEM', ca: 'CA PEM' },
  metrics: { port: 9090 },
  networkPolicy: {
    clients: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } } }],
    metricsClients: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    egress: { enabled: true },
  },
  autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 12, targetMemoryUtilizationPercentage: 80 },
  sweep: { enabled: true },
  repair: { enabled: true, args: ['--verify'] },
  tests: { token: 'test-token-value' },
  extraEnv: [{ name: 'RKMS_LOG_LEVEL', value: 'debug' }],
  imagePullSecrets: [{ name: 'registry' }],
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'rkms', effect: 'NoSchedule' }],
  priorityClassName: 'high',
};

function render(values: Dict = {}): Release {
  return renderChart(chart, { values, releaseName: 'rkms', namespace: 'rkms' });
}

function find(release: Release, kind: string, name?: string): Dict {
  const found = release.manifests.find(
    (m) => m.doc.kind === kind && (name === undefined || (m.doc.metadata as Dict).name === name),
  );
  if (!found) throw new Error(`no ${kind} ${name ?? ''} rendered`);
  return found.doc;
}

function kinds(release: Release): string[] {
  return release.manifests.map((m) => String(m.doc.kind)).sort();
}

/** A path into a manifest, e.g. at(doc, 'spec.template.spec.containers.0.ports'). */
function at(doc: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, k) => (v as Dict | undefined)?.[k], doc);
}

function configToml(release: Release): string {
  return String((find(release, 'ConfigMap').data as Dict)['config.toml']);
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validateValues = ajv.compile(chart.schema);

function schemaErrors(overrides: Dict): string[] {
  const ok = validateValues(coalescedValues(chart, overrides));
  return ok ? [] : (validateValues.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

describe('the Helm chart renders manifests the Kubernetes API accepts', () => {
  const cases: [string, Dict][] = [
    ['default values', {}],
    ['every optional part on', FULL],
    [
      'existing Secrets, minAvailable, no NetworkPolicy',
      {
        tls: { enabled: true, existingSecret: 'rkms-tls', clientCA: true },
        tests: { existingSecret: 'rkms-test-token', existingSecretKey: 'token' },
        podDisruptionBudget: { minAvailable: '50%' },
        networkPolicy: { enabled: false },
        serviceAccount: { create: false, name: 'rkms-irsa' },
      },
    ],
  ];

  it.each(cases)(
    '%s: every manifest validates against its Kubernetes schema, with no unknown field',
    async (_name, values) => {
      const release = render(values);
      expect(release.manifests.length).toBeGreaterThanOrEqual(5);
      for (const m of release.manifests) {
        await expect(validateSchema(m.doc), m.template).resolves.toBeUndefined();
      }
      expect(checkFields(release.manifests.map((m: Manifest) => m.doc))).toEqual([]);
    },
  );

  it('renders the expected objects', () => {
    expect(kinds(render())).toEqual([
      'ConfigMap',
      'Deployment',
      'NetworkPolicy',
      'Pod',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    expect(kinds(render(FULL))).toEqual([
      'ConfigMap',
      'CronJob',
      'CronJob',
      'Deployment',
      'HorizontalPodAutoscaler',
      'NetworkPolicy',
      'Pod',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'ServiceAccount',
    ]);
  });

  it('the checks catch a field the API does not have and a wrong type', async () => {
    const deployment = structuredClone(find(render(), 'Deployment'));
    const container = at(deployment, 'spec.template.spec.containers.0') as Dict;
    container.imagePulPolicy = 'Always';
    expect(checkFields([deployment]).join('\n')).toMatch(/imagePulPolicy/);
    const typed = structuredClone(find(render(), 'Deployment'));
    (typed.spec as Dict).replicas = '3';
    await expect(validateSchema(typed)).rejects.toThrow(/replicas/);
  });
});

describe('values.schema.json', () => {
  it('accepts values.yaml and the full-featured values', () => {
    expect(schemaErrors({})).toEqual([]);
    expect(schemaErrors(FULL)).toEqual([]);
  });

  it.each<[string, Dict, RegExp]>([
    ['a negative replica count', { replicaCount: -1 }, /replicaCount/],
    [
      'maxUnavailable as a string without %',
      { podDisruptionBudget: { maxUnavailable: '1' } },
      /maxUnavailable/,
    ],
    ['a negative maxUnavailable', { podDisruptionBudget: { maxUnavailable: -1 } }, /maxUnavailable/],
    ['a misspelt top-level key', { replicaCont: 3 }, /additional properties/],
    ['a misspelt nested key', { networkPolicy: { client: [] } }, /additional properties/],
    ['a port out of range', { server: { port: 70000 } }, /server\/port/],
    ['a port as a string', { metrics: { port: '9090' } }, /metrics\/port/],
    ['a boolean as a string', { tls: { enabled: 'yes' } }, /tls\/enabled/],
    ['an unknown service type', { service: { type: 'Ingress' } }, /service\/type/],
    ['an image digest that is not sha256', { image: { digest: 'latest' } }, /image\/digest/],
  ])('rejects %s', (_name, overrides, message) => {
    expect(schemaErrors(overrides).join('\n')).toMatch(message);
  });
});

describe('PodDisruptionBudget', () => {
  const spec = (values: Dict) =>
    find(render({ podDisruptionBudget: values }), 'PodDisruptionBudget').spec as Dict;

  it('keeps an explicit maxUnavailable: 0 (it used to become 1)', () => {
    expect(spec({ maxUnavailable: 0 })).toMatchObject({ maxUnavailable: 0 });
    expect(spec({ maxUnavailable: 0 })).not.toHaveProperty('minAvailable');
  });

  it('renders the default, a percentage, and minAvailable instead when it is set', () => {
    expect(spec({})).toMatchObject({ maxUnavailable: 1 });
    expect(spec({ maxUnavailable: '25%' })).toMatchObject({ maxUnavailable: '25%' });
    expect(spec({ minAvailable: 2 })).toEqual({
      minAvailable: 2,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'rkms', 'app.kubernetes.io/instance': 'rkms' } },
    });
    expect(spec({ minAvailable: 0 })).toMatchObject({ minAvailable: 0 });
  });

  it('fails when neither is set, and can be left out', () => {
    expect(() => render({ podDisruptionBudget: { maxUnavailable: null } })).toThrow(
      /maxUnavailable or minAvailable/,
    );
    expect(kinds(render({ podDisruptionBudget: { enabled: false } }))).not.toContain('PodDisruptionBudget');
  });
});

describe('NetworkPolicy', () => {
  it('lets only the configured clients and the helm test pod reach the API port, and scrapers the metrics port', () => {
    const release = render(FULL);
    const policy = find(release, 'NetworkPolicy').spec as Dict;
    const deployment = find(release, 'Deployment');
    const testPod = find(release, 'Pod');
    expect(policy.podSelector).toEqual(at(deployment, 'spec.selector'));
    expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    const [api, metrics] = policy.ingress as Dict[];
    expect(api?.ports).toEqual([{ port: 'http', protocol: 'TCP' }]);
    expect(api?.from).toEqual([
      { podSelector: { matchLabels: at(testPod, 'metadata.labels') } },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } } },
    ]);
    expect(metrics).toEqual({
      ports: [{ port: 'metrics', protocol: 'TCP' }],
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    });
    expect(at(policy, 'egress.1')).toEqual({
      ports: [{ port: 443, protocol: 'TCP' }],
      to: [{ ipBlock: { cidr: '0.0.0.0/0' } }],
    });
  });

  it('by default admits only the test pod and leaves egress alone', () => {
    const policy = find(render(), 'NetworkPolicy').spec as Dict;
    expect(policy.policyTypes).toEqual(['Ingress']);
    expect(policy.ingress).toHaveLength(1);
    expect(at(policy, 'ingress.0.from')).toHaveLength(1);
    expect(policy).not.toHaveProperty('egress');
  });
});

describe('Deployment and config.toml', () => {
  it('renders [server], [server.tls] and [metrics] from the values the probes, ports and mounts use', () => {
    const release = render(FULL);
    const toml = configToml(release);
    expect(toml).toContain(
      '[server]\nhost = "0.0.0.0"\nport = 8080\napi_version = "v1"\nshutdown_timeout_ms = 20000',
    );
    expect(toml).toContain('request_timeout_ms = 5000\nallowed_hosts = ["rkms.rkms.svc"]');
    expect(toml).toContain(
      '[server.tls]\ncert = "/etc/rkms/tls/tls.crt"\nkey = "/etc/rkms/tls/tls.key"\nca = "/etc/rkms/tls/ca.crt"',
    );
    expect(toml).toContain('[metrics]\nport = 9090');
    expect(toml).toContain('[kms]\nregions = ["us-east-1", "us-east-2", "us-west-1"]');

    const pod = at(find(release, 'Deployment'), 'spec.template.spec') as Dict;
    const container = at(pod, 'containers.0') as Dict;
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ]);
    expect(at(container, 'readinessProbe.httpGet')).toEqual({
      path: '/readyz',
      port: 'http',
      scheme: 'HTTPS',
    });
    expect(at(container, 'livenessProbe.httpGet')).toEqual({
      path: '/healthz',
      port: 'http',
      scheme: 'HTTPS',
    });
    expect(at(pod, 'volumes.0.projected.sources')).toEqual([
      { configMap: { name: 'rkms' } },
      {
        secret: {
          name: 'rkms',
          items: [
            { key: 'tls.crt', path: 'tls/tls.crt' },
            { key: 'tls.key', path: 'tls/tls.key' },
            { key: 'ca.crt', path: 'tls/ca.crt' },
          ],
        },
      },
    ]);
    const service = find(release, 'Service').spec as Dict;
    expect(service.ports).toEqual([
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' },
      { name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' },
    ]);
    expect(at(find(release, 'Secret'), 'data')).toEqual({
      'tls.crt': Buffer.from('CERT PEM').toString('base64'),
      'tls.key': Buffer.from('KEY PEM').toString('base64'),
      'ca.crt': Buffer.from('CA PEM').toString('base64'),
      'test-token': Buffer.from('test-token-value').toString('base64'),
    });
  });

  it('plain HTTP without TLS, and no Secret when nothing needs one', () => {
    const release = render();
    const container = at(find(release, 'Deployment'), 'spec.template.spec.containers.0') as Dict;
    expect(at(container, 'readinessProbe.httpGet.scheme')).toBe('HTTP');
    expect(configToml(release)).not.toMatch(/^\[server\.tls\]$|^\[metrics\]$/m);
    expect(kinds(release)).not.toContain('Secret');
  });

  it('refuses a config that defines [server] or [metrics] itself', () => {
    expect(() => render({ config: '[server]\nport = 9000\n' })).toThrow(TemplateError);
    expect(() => render({ config: '[kms]\nregions = ["us-east-1"]\n [ metrics ]\nport = 1\n' })).toThrow(
      /\[metrics\]/,
    );
  });

  it('gives the drain its time: grace period = preStop sleep + shutdown timeout + margin', () => {
    const spec = (values: Dict) => at(find(render(values), 'Deployment'), 'spec.template.spec') as Dict;
    expect(spec({}).terminationGracePeriodSeconds).toBe(5 + 20 + 5);
    expect(
      spec({ preStopSleepSeconds: 10, server: { shutdownTimeoutMs: 45_500 } }).terminationGracePeriodSeconds,
    ).toBe(10 + 46 + 5);
    expect(at(spec({}), 'containers.0.lifecycle.preStop.exec.command')).toEqual(['sleep', '5']);
  });

  it('spreads the replicas over zones and nodes, and runs non-root on a read-only root filesystem', () => {
    const spec = at(find(render(), 'Deployment'), 'spec') as Dict;
    expect(spec.replicas).toBe(3);
    expect(at(spec, 'template.spec.topologySpreadConstraints')).toEqual([
      expect.objectContaining({ topologyKey: 'topology.kubernetes.io/zone', labelSelector: spec.selector }),
      expect.objectContaining({ topologyKey: 'kubernetes.io/hostname', labelSelector: spec.selector }),
    ]);
    expect(at(spec, 'template.spec.securityContext.runAsNonRoot')).toBe(true);
    expect(at(spec, 'template.spec.containers.0.securityContext.readOnlyRootFilesystem')).toBe(true);
  });

  it('leaves the replica count to the HorizontalPodAutoscaler when autoscaling', () => {
    const release = render(FULL);
    expect(at(find(release, 'Deployment'), 'spec')).not.toHaveProperty('replicas');
    expect(find(release, 'HorizontalPodAutoscaler').spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'rkms' },
      minReplicas: 3,
      maxReplicas: 12,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
        {
          type: 'Resource',
          resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } },
        },
      ],
    });
    expect(() => render({ autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 3 } })).toThrow(
      /maxReplicas/,
    );
  });

  it('runs sweep and repair as CronJobs whose pods stay out of the Service', () => {
    const release = render(FULL);
    const repair = find(release, 'CronJob', 'rkms-repair');
    expect(at(repair, 'spec.jobTemplate.spec.template.spec.containers.0.args')).toEqual([
      'repair',
      '--verify',
    ]);
    expect(
      at(find(release, 'CronJob', 'rkms-sweep'), 'spec.jobTemplate.spec.template.spec.containers.0.args'),
    ).toEqual(['sweep']);
    const labels = at(repair, 'spec.jobTemplate.spec.template.metadata.labels') as Dict;
    expect(labels['app.kubernetes.io/name']).toBe('rkms-repair');
  });
});

describe('helm test', () => {
  it('is a test hook pod outside the Service that reaches it by its DNS name, with the token from the Secret', () => {
    const release = render(FULL);
    const pod = find(release, 'Pod');
    expect((at(pod, 'metadata.annotations') as Dict)['helm.sh/hook']).toBe('test');
    expect(at(pod, 'metadata.labels')).not.toMatchObject(
      at(find(release, 'Service'), 'spec.selector') as Dict,
    );
    const env = at(pod, 'spec.containers.0.env') as Dict[];
    expect(env).toContainEqual({ name: 'RKMS_URL', value: 'https://rkms.rkms.svc:8080' });
    expect(env).toContainEqual({
      name: 'RKMS_TOKEN',
      valueFrom: { secretKeyRef: { name: 'rkms', key: 'test-token' } },
    });
  });

  const dirs: string[] = [];
  afterAll(async () => {
    killAllClis();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("its script GETs one key twice from a running rkms and prints only the key's length", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rkms-helm-test-'));
    dirs.push(dir);
    const config = path.join(dir, 'config.toml');
    await writeFile(
      config,
      [
        '[server]\nport = 0',
        '[kms]\nregions = ["us-east-1", "us-east-2", "us-west-1"]',
        '[dynamodb]\nregion = "us-east-1"\ntable_name = "rkms_keys"',
        `[embedded]\nkms = true\ndynamodb = true\ndata_dir = ${JSON.stringify(path.join(dir, 'data'))}`,
      ].join('\n'),
    );
    const server = runCli(['serve', '--config', config]);
    const [, url] = await server.waitFor(/RKMS listening on (http:\/\/\S+)/);

    const container = at(find(render(), 'Pod'), 'spec.containers.0') as { command: string[]; args: string[] };
    const [node, ...flags] = container.command;
    expect(node).toBe('node');
    const run = await promisify(execFile)(process.execPath, [...flags, ...container.args], {
      env: { ...process.env, RKMS_URL: url, RKMS_TEST_ID: 'rkms-helm-test' },
    });
    expect(run.stdout).toMatch(/^ok: http:\/\/127\.0\.0\.1:\d+ returned the same 32-byte key twice\n$/);
    const key = await getKey(url ?? '', 'rkms-helm-test');
    expect(key.status).toBe(200);
    expect(run.stdout + run.stderr).not.toContain(String(key.body.key));
    expect(await server.stop('SIGTERM')).toBe(0);
  });
});

describe('the chart files', () => {
  it('parse as Helm reads them', () => {
    expect(readYaml('a: yes\nb: 0\n')).toEqual({ a: true, b: 0 });
    expect(chart.meta).toMatchObject({ apiVersion: 'v2', name: 'rkms' });
  });
});
