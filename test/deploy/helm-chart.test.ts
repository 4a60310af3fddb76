import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { tokenSha256 } from '../../src/auth/token.js';
import {
  ANONYMOUS,
  FULL,
  LOCKED,
  PAYMENTS,
  TEST_TOKEN,
  at,
  chart,
  configToml,
  find,
  kinds,
  render,
  secretData,
  withValues,
  type Dict,
} from './chart.js';
import { imageNodeArgs } from '../../bench/processes.js';
import { TemplateError } from './gotemplate.js';
import { coalescedValues, readYaml, type Manifest } from './helm.js';
import { checkFields, validateSchema } from './kubernetes.js';

/**
 * The Helm chart, rendered as `helm template` would (see helm.ts): a locked-down release
 * with the fewest values, one with every optional part on, one with anonymous callers;
 * each manifest checked against the Kubernetes API schemas, and the values against
 * values.schema.json as helm install checks them. helm-config.test.ts holds what the
 * service makes of the rendered config.toml; helm-test-pod.test.ts runs the helm test.
 */

const ajv = new Ajv({ allErrors: true, strict: true });
const validateValues = ajv.compile(chart.schema);

function schemaErrors(overrides: Dict): string[] {
  const ok = validateValues(coalescedValues(chart, overrides));
  return ok ? [] : (validateValues.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

/** The locked-down minimum with these values on top. */
function locked(overrides: Dict = {}) {
  return render(withValues(LOCKED, overrides));
}

describe('the Helm chart renders manifests the Kubernetes API accepts', () => {
  const cases: [string, Dict][] = [
    ['clients and the helm test token, nothing else', LOCKED],
    ['every optional part on', FULL],
    ['anonymous callers allowed', ANONYMOUS],
    [
      'existing Secrets, minAvailable, no NetworkPolicy',
      withValues(LOCKED, {
        tls: { enabled: true, existingSecret: 'rkms-tls', clientCA: true },
        tests: {
          token: '',
          existingSecret: 'rkms-test-token',
          existingSecretKey: 'token',
          tokenSha256: 'ab'.repeat(32),
        },
        podDisruptionBudget: { minAvailable: '50%' },
        networkPolicy: { enabled: false },
        serviceAccount: { create: false, name: 'rkms-irsa' },
      }),
    ],
    [
      'gRPC readiness probe, audit file on an emptyDir',
      withValues(ANONYMOUS, {
        grpc: { enabled: true },
        readinessProbe: { httpGet: null, grpc: {} },
        audit: { destination: 'file' },
      }),
    ],
  ];

  it.each(cases)(
    '%s: every manifest validates against its Kubernetes schema, with no unknown field',
    async (_name, values) => {
      expect(schemaErrors(values)).toEqual([]);
      const release = render(values);
      expect(release.manifests.length).toBeGreaterThanOrEqual(5);
      for (const m of release.manifests) {
        await expect(validateSchema(m.doc), m.template).resolves.toBeUndefined();
      }
      expect(checkFields(release.manifests.map((m: Manifest) => m.doc))).toEqual([]);
    },
  );

  it('renders the expected objects', () => {
    expect(kinds(locked())).toEqual([
      'ConfigMap',
      'Deployment',
      'NetworkPolicy',
      'Pod',
      'PodDisruptionBudget',
      'Secret',
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
    const deployment = structuredClone(find(locked(), 'Deployment'));
    const container = at(deployment, 'spec.template.spec.containers.0') as Dict;
    container.imagePulPolicy = 'Always';
    expect(checkFields([deployment]).join('\n')).toMatch(/imagePulPolicy/);
    const typed = structuredClone(find(locked(), 'Deployment'));
    (typed.spec as Dict).replicas = '3';
    await expect(validateSchema(typed)).rejects.toThrow(/replicas/);
  });
});

describe('who may call RKMS is an explicit choice', () => {
  it('the default values do not render: they name neither clients nor anonymous access', () => {
    expect(schemaErrors({})).toEqual([]);
    expect(() => render({})).toThrow(TemplateError);
    expect(() => render({})).toThrow(
      /auth: say who may call RKMS\. Declare auth\.clients .* or set auth\.allowAnonymous=true .* RKMS refuses to listen on 0\.0\.0\.0 with neither/,
    );
  });

  it('refuses clients and anonymous access together, and certificate clients without a client CA', () => {
    expect(() => locked({ auth: { allowAnonymous: true } })).toThrow(/exclude each other/);
    expect(() =>
      locked({
        auth: { clients: [{ name: 'ledger', certSan: 'DNS:x.internal', ids: ['*'], actions: ['get'] }] },
      }),
    ).toThrow(
      /auth\.clients ledger: certSubject and certSan need client certificates: set tls\.enabled with tls\.clientCA/,
    );
  });

  it('adds the client helm-test, allowed get and create on the test id only, whose token stays in the Secret', () => {
    const release = locked();
    const toml = configToml(release);
    expect(toml).toContain(
      '[[auth.clients]]\nname = "helm-test"\n' +
        `token_sha256 = "${tokenSha256(TEST_TOKEN)}"\n` +
        'ids = ["rkms-helm-test"]\nactions = ["get","create"]',
    );
    expect(toml).not.toContain(TEST_TOKEN);
    expect(secretData(release)).toEqual({ 'test-token': TEST_TOKEN });
    expect(() => locked({ auth: { clients: [{ ...PAYMENTS, name: 'helm-test' }] } })).toThrow(
      /the name helm-test is the chart's client/,
    );
  });

  it('asks for the helm test token, or leaves the test out', () => {
    expect(() => locked({ tests: { token: '' } })).toThrow(
      /tests: with auth\.clients the helm test needs a token: set tests\.token/,
    );
    expect(() => locked({ tests: { token: '', existingSecret: 'rkms-test' } })).toThrow(
      /tests\.existingSecret: set tests\.tokenSha256 too/,
    );
    const untested = locked({ tests: { enabled: false, token: '' } });
    expect(kinds(untested)).not.toContain('Pod');
    expect(configToml(untested)).not.toContain('helm-test');
    expect(() => locked({ tests: { keyId: 'rkms-*' } })).toThrow(/tests\.keyId: no \*, \? or \\/);
  });

  it('anonymous: no client, no token, no Secret, and a warning in the notes', () => {
    const release = render(withValues(ANONYMOUS, { tests: { token: TEST_TOKEN } }));
    expect(configToml(release)).toContain('[auth]\nallow_anonymous = true\n');
    expect(configToml(release)).not.toContain('[[auth.clients]]');
    expect(kinds(release)).not.toContain('Secret');
    expect(at(find(release, 'Pod'), 'spec.containers.0.env')).not.toContainEqual(
      expect.objectContaining({ name: 'RKMS_TOKEN' }),
    );
    expect(release.notes).toMatch(/WARNING: auth\.allowAnonymous is true: anyone who reaches the Service/);
    expect(locked().notes).toContain('Callers authenticate as one of the clients payments (and helm-test');
  });
});

describe('values.schema.json', () => {
  it('accepts values.yaml and the values of every release rendered here', () => {
    expect(schemaErrors({})).toEqual([]);
    expect(schemaErrors(LOCKED)).toEqual([]);
    expect(schemaErrors(FULL)).toEqual([]);
    expect(schemaErrors(ANONYMOUS)).toEqual([]);
  });

  const client = (fields: Dict): Dict => ({ auth: { clients: [{ ...PAYMENTS, ...fields }] } });

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
    ['a negative port', { server: { port: -1 } }, /server\/port/],
    ['a negative gRPC port', { grpc: { port: -8 } }, /grpc\/port/],
    ['a port as a string', { metrics: { port: '9090' } }, /metrics\/port/],
    ['a boolean as a string', { tls: { enabled: 'yes' } }, /tls\/enabled/],
    ['an unknown service type', { service: { type: 'Ingress' } }, /service\/type/],
    ['an image digest that is not sha256', { image: { digest: 'latest' } }, /image\/digest/],
    ['a client without ids', client({ ids: undefined }), /clients\/0 must have required property 'ids'/],
    ['a client with no id', client({ ids: [] }), /clients\/0\/ids must NOT have fewer than 1 items/],
    ['a client without actions', client({ actions: undefined }), /must have required property 'actions'/],
    ['an unknown action', client({ actions: ['get', 'read'] }), /actions\/1 must be equal to one of/],
    [
      'a client without a credential',
      client({ tokenSha256: undefined }),
      /clients\/0 must have required property 'tokenSha256'/,
    ],
    ['a token instead of its hash', client({ tokenSha256: TEST_TOKEN }), /tokenSha256 must match pattern/],
    ['a client name with a space', client({ name: 'pay ments' }), /name must match pattern/],
    ['a misspelt client setting', client({ token_sha256: 'ab'.repeat(32) }), /additional properties/],
    ['a negative per-client limit', client({ requestsPerMinute: -1 }), /requestsPerMinute must be >= 0/],
    ['allowAnonymous as a string', { auth: { allowAnonymous: 'true' } }, /allowAnonymous must be boolean/],
    ['an unknown audit destination', { audit: { destination: 's3' } }, /audit\/destination/],
    ['a negative rate limit', { rateLimit: { createsPerMinute: -5 } }, /rateLimit\/createsPerMinute/],
    [
      'a drain shorter than the service allows',
      { server: { shutdownTimeoutMs: 0 } },
      /server\/shutdownTimeoutMs must be >= 100/,
    ],
    ['a Host name with a path', { server: { allowedHosts: ['rkms/x'] } }, /allowedHosts\/0/],
    [
      'a readiness probe both HTTP and gRPC',
      { readinessProbe: { grpc: {} } },
      /readinessProbe must match exactly one schema/,
    ],
    ['a test id that is a pattern', { tests: { keyId: 'tenant-*' } }, /tests\/keyId must match pattern/],
    [
      'a test token with a space',
      { tests: { token: 'not a token at all!' } },
      /tests\/token must match pattern/,
    ],
  ])('rejects %s', (_name, overrides, message) => {
    expect(schemaErrors(overrides).join('\n')).toMatch(message);
  });
});

describe('PodDisruptionBudget', () => {
  const spec = (values: Dict) =>
    find(locked({ podDisruptionBudget: values }), 'PodDisruptionBudget').spec as Dict;

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
    expect(() => locked({ podDisruptionBudget: { maxUnavailable: null } })).toThrow(
      /maxUnavailable or minAvailable/,
    );
    expect(kinds(locked({ podDisruptionBudget: { enabled: false } }))).not.toContain('PodDisruptionBudget');
  });
});

describe('NetworkPolicy', () => {
  it('lets only the configured clients and the helm test pod reach the API ports, and scrapers the metrics port', () => {
    const release = render(FULL);
    const policy = find(release, 'NetworkPolicy').spec as Dict;
    const deployment = find(release, 'Deployment');
    const testPod = find(release, 'Pod');
    expect(policy.podSelector).toEqual(at(deployment, 'spec.selector'));
    expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    const [api, metrics] = policy.ingress as Dict[];
    expect(api?.ports).toEqual([
      { port: 'http', protocol: 'TCP' },
      { port: 'grpc', protocol: 'TCP' },
    ]);
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

  it('by default admits only the test pod, to the HTTP port, and leaves egress alone', () => {
    const policy = find(locked(), 'NetworkPolicy').spec as Dict;
    expect(policy.policyTypes).toEqual(['Ingress']);
    expect(policy.ingress).toHaveLength(1);
    expect(at(policy, 'ingress.0.ports')).toEqual([{ port: 'http', protocol: 'TCP' }]);
    expect(at(policy, 'ingress.0.from')).toHaveLength(1);
    expect(policy).not.toHaveProperty('egress');
  });
});

describe('Prometheus reaches /metrics', () => {
  const MONITORING = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
  const annotations = (release: ReturnType<typeof render>) =>
    at(find(release, 'Deployment'), 'spec.template.metadata.annotations') as Dict;

  it('without a metrics port: scrape annotations and the metrics clients on the HTTP port, which serves /metrics', () => {
    const release = locked({ networkPolicy: { metricsClients: [MONITORING] } });
    expect(annotations(release)).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
      'prometheus.io/scheme': 'http',
      'prometheus.io/path': '/metrics',
    });
    const ingress = at(find(release, 'NetworkPolicy'), 'spec.ingress') as Dict[];
    expect(ingress).toHaveLength(2);
    expect(ingress[1]).toEqual({ ports: [{ port: 'http', protocol: 'TCP' }], from: [MONITORING] });
    expect(configToml(release)).not.toMatch(/^\[metrics\]/m);
  });

  it('without a metrics port under TLS: scraped over HTTPS', () => {
    const release = locked({ tls: { enabled: true, existingSecret: 'rkms-tls' } });
    expect(annotations(release)).toMatchObject({
      'prometheus.io/port': '8080',
      'prometheus.io/scheme': 'https',
    });
  });

  it('with a metrics port: scraped there in plain HTTP, and the metrics clients reach only that port', () => {
    const release = render(FULL);
    expect(annotations(release)).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9100',
      'prometheus.io/scheme': 'http',
    });
    const ingress = at(find(release, 'NetworkPolicy'), 'spec.ingress') as Dict[];
    expect(ingress[1]).toEqual({ ports: [{ port: 'metrics', protocol: 'TCP' }], from: [MONITORING] });
  });

  it('metrics.annotations=false leaves the pods unannotated', () => {
    const pod = annotations(locked({ metrics: { annotations: false } }));
    expect(Object.keys(pod).filter((k) => k.startsWith('prometheus.io/'))).toEqual([]);
  });
});

describe('Deployment, Service and Secret', () => {
  it('gives HTTP, gRPC and metrics a port each, in the pod and the Service, and mounts what config.toml names', () => {
    const release = render(FULL);
    const pod = at(find(release, 'Deployment'), 'spec.template.spec') as Dict;
    const container = at(pod, 'containers.0') as Dict;
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'grpc', containerPort: 9090, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9100, protocol: 'TCP' },
    ]);
    expect(at(find(release, 'Service'), 'spec.ports')).toEqual([
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' },
      { name: 'grpc', port: 9090, targetPort: 'grpc', protocol: 'TCP' },
      { name: 'metrics', port: 9100, targetPort: 'metrics', protocol: 'TCP' },
    ]);
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
    expect(secretData(release)).toEqual({
      'tls.crt': 'CERT PEM',
      'tls.key': 'KEY PEM',
      'ca.crt': 'CA PEM',
      'test-token': TEST_TOKEN,
    });
  });

  it('probes /healthz and /readyz on the HTTP port, over HTTPS with TLS, with neither token nor certificate', () => {
    const probes = (values: Dict) => {
      const container = at(find(render(values), 'Deployment'), 'spec.template.spec.containers.0') as Dict;
      return { liveness: container.livenessProbe as Dict, readiness: container.readinessProbe as Dict };
    };
    const tls = probes(FULL);
    expect(tls.liveness.httpGet).toEqual({ path: '/healthz', port: 'http', scheme: 'HTTPS' });
    expect(tls.readiness.httpGet).toEqual({ path: '/readyz', port: 'http', scheme: 'HTTPS' });
    expect(JSON.stringify(tls)).not.toMatch(/httpHeaders|Authorization/i);
    expect(probes(LOCKED).readiness.httpGet).toEqual({ path: '/readyz', port: 'http', scheme: 'HTTP' });
  });

  it('can probe readiness with the gRPC health service instead, where the kubelet can speak to it', () => {
    const grpcProbe = { grpc: { enabled: true }, readinessProbe: { httpGet: null, grpc: {} } };
    const container = at(find(locked(grpcProbe), 'Deployment'), 'spec.template.spec.containers.0') as Dict;
    expect(container.readinessProbe).toEqual({
      grpc: { port: 9090 },
      periodSeconds: 5,
      timeoutSeconds: 3,
      failureThreshold: 2,
    });
    const named = locked({
      ...grpcProbe,
      readinessProbe: { httpGet: null, grpc: { service: 'rkms.v1.Rkms' } },
    });
    expect(at(find(named, 'Deployment'), 'spec.template.spec.containers.0.readinessProbe.grpc')).toEqual({
      port: 9090,
      service: 'rkms.v1.Rkms',
    });
    expect(() => locked({ readinessProbe: { httpGet: null, grpc: {} } })).toThrow(
      /readinessProbe\.grpc: needs grpc\.enabled/,
    );
    expect(() => render(withValues(FULL, { readinessProbe: { httpGet: null, grpc: {} } }))).toThrow(
      /the kubelet's gRPC probe cannot speak TLS/,
    );
  });

  it('refuses two settings on one port', () => {
    expect(() => locked({ grpc: { enabled: true, port: 8080 } })).toThrow(
      /grpc\.port and server\.port are both 8080: each needs a port of its own/,
    );
    expect(() => render(withValues(FULL, { metrics: { port: 9090 } }))).toThrow(
      /grpc\.port and metrics\.port are both 9090/,
    );
  });

  it('writes the audit trail to stdout by default: no volume', () => {
    const pod = at(find(locked(), 'Deployment'), 'spec.template.spec') as Dict;
    expect(JSON.stringify(pod)).not.toMatch(/audit/);
  });

  it('or to a file: a directory per pod on a shared claim, or the pod’s own emptyDir', () => {
    const onClaim = at(find(render(FULL), 'Deployment'), 'spec.template.spec') as Dict;
    expect(onClaim.volumes).toContainEqual({
      name: 'audit',
      persistentVolumeClaim: { claimName: 'rkms-audit' },
    });
    expect(at(onClaim, 'containers.0.volumeMounts')).toContainEqual({
      name: 'audit',
      mountPath: '/var/log/rkms',
      subPathExpr: '$(RKMS_POD_NAME)',
    });
    expect(at(onClaim, 'containers.0.env')).toContainEqual({
      name: 'RKMS_POD_NAME',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    expect(at(onClaim, 'securityContext')).toMatchObject({ fsGroup: 1000 });

    const own = at(
      find(locked({ audit: { destination: 'file' } }), 'Deployment'),
      'spec.template.spec',
    ) as Dict;
    expect(own.volumes).toContainEqual({ name: 'audit', emptyDir: { sizeLimit: '1Gi' } });
    expect(at(own, 'containers.0.volumeMounts')).toContainEqual({
      name: 'audit',
      mountPath: '/var/log/rkms',
    });
    expect(at(own, 'containers.0.env')).not.toContainEqual(
      expect.objectContaining({ name: 'RKMS_POD_NAME' }),
    );
    // The jobs write no audit lines: no audit volume in the CronJobs.
    const repair = find(render(FULL), 'CronJob', 'rkms-repair');
    expect(JSON.stringify(at(repair, 'spec.jobTemplate.spec.template.spec.volumes'))).not.toMatch(/audit/);
  });

  it('no Secret when nothing needs one', () => {
    const release = render(ANONYMOUS);
    const container = at(find(release, 'Deployment'), 'spec.template.spec.containers.0') as Dict;
    expect(at(container, 'readinessProbe.httpGet.scheme')).toBe('HTTP');
    expect(kinds(release)).not.toContain('Secret');
  });

  it('gives the drain its time: grace period = preStop sleep + shutdown timeout + margin', () => {
    const spec = (values: Dict) => at(find(locked(values), 'Deployment'), 'spec.template.spec') as Dict;
    expect(spec({}).terminationGracePeriodSeconds).toBe(5 + 20 + 5);
    expect(
      spec({ preStopSleepSeconds: 10, server: { shutdownTimeoutMs: 45_500 } }).terminationGracePeriodSeconds,
    ).toBe(10 + 46 + 5);
    expect(at(spec({}), 'containers.0.lifecycle.preStop.exec.command')).toEqual(['sleep', '5']);
    // gRPC drains beside HTTP, within the same bound.
    expect(() => locked({ grpc: { enabled: true, shutdownTimeoutMs: 30_000 } })).toThrow(
      /grpc\.shutdownTimeoutMs: at most server\.shutdownTimeoutMs/,
    );
  });

  it('bounds the heap as the image does, and lets extraEnv replace the flag', async () => {
    const env = (values: Dict) =>
      at(find(locked(values), 'Deployment'), 'spec.template.spec.containers.0.env') as Dict[];
    const nodeOptions = (values: Dict) =>
      env(values)
        .filter((e) => e.name === 'NODE_OPTIONS')
        .map((e) => e.value);
    // The bench reads the Dockerfile's flags to start RKMS with; the chart's default is the same.
    expect(nodeOptions({})).toEqual([(await imageNodeArgs()).join(' ')]);
    expect(nodeOptions({ heapLimitMb: 512 })).toEqual(['--max-old-space-size=512']);
    // Kubernetes keeps the last of two entries with one name.
    expect(
      nodeOptions({ extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=96' }] }).at(-1),
    ).toBe('--max-old-space-size=96');
    expect(schemaErrors({ heapLimitMb: 16 })).toEqual(['/heapLimitMb must be >= 64']);
  });

  it('spreads the replicas over zones and nodes, and runs non-root on a read-only root filesystem', () => {
    const spec = at(find(locked(), 'Deployment'), 'spec') as Dict;
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
    expect(() => locked({ autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 3 } })).toThrow(
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

describe('the helm test pod', () => {
  it('is a test hook outside the Service that reaches it by its DNS name, with the token from the Secret', () => {
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
    expect(JSON.stringify(pod)).not.toContain(TEST_TOKEN);
  });

  it('takes the token from an existing Secret, whose hash then comes from tests.tokenSha256', () => {
    const hash = 'cd'.repeat(32);
    const release = locked({
      tests: { token: '', existingSecret: 'rkms-test', existingSecretKey: 'token', tokenSha256: hash },
    });
    expect(at(find(release, 'Pod'), 'spec.containers.0.env')).toContainEqual({
      name: 'RKMS_TOKEN',
      valueFrom: { secretKeyRef: { name: 'rkms-test', key: 'token' } },
    });
    expect(configToml(release)).toContain(`name = "helm-test"\ntoken_sha256 = "${hash}"`);
    expect(kinds(release)).not.toContain('Secret');
  });

  it('over HTTPS verifies the certificate with ca.crt of the TLS Secret, another Secret, or not at all', () => {
    const podSpec = (values: Dict) => at(find(render(values), 'Pod'), 'spec') as Dict;
    const verifying = podSpec(FULL);
    expect(at(verifying, 'containers.0.env')).toContainEqual({
      name: 'NODE_EXTRA_CA_CERTS',
      value: '/etc/rkms-test/ca.crt',
    });
    expect(verifying.volumes).toEqual([
      { name: 'ca', secret: { secretName: 'rkms', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
    ]);
    const other = podSpec(
      withValues(FULL, { tests: { tls: { caSecret: 'cluster-ca', caSecretKey: 'root.pem' } } }),
    );
    expect(other.volumes).toEqual([
      { name: 'ca', secret: { secretName: 'cluster-ca', items: [{ key: 'root.pem', path: 'ca.crt' }] } },
    ]);
    const skipping = podSpec(withValues(FULL, { tests: { tls: { insecureSkipVerify: true } } }));
    expect(at(skipping, 'containers.0.env')).toContainEqual({
      name: 'NODE_TLS_REJECT_UNAUTHORIZED',
      value: '0',
    });
    expect(skipping).not.toHaveProperty('volumes');
    expect(() => locked({ tls: { enabled: true, cert: 'CERT PEM', key: 'KEY PEM' } })).toThrow(
      /tests\.tls: over HTTPS the helm test verifies the server's certificate, and has no CA/,
    );
  });
});

describe('the chart files', () => {
  it('parse as Helm reads them', () => {
    expect(readYaml('a: yes\nb: 0\n')).toEqual({ a: true, b: 0 });
    expect(chart.meta).toMatchObject({ apiVersion: 'v2', name: 'rkms' });
  });
});
