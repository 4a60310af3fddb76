import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Validator } from '@seriousme/openapi-schema-validator';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/cli/compose.js';
import { ensureEmbeddedKeys } from '../../src/cli/embedded.js';
import { Lifecycle } from '../../src/http/lifecycle.js';
import { healthRoutes } from '../../src/http/routes/health.js';
import { testConfig } from '../support/config.js';
import { listenGrpc, RkmsGrpcClient } from '../support/grpc.js';
import { call, getKey } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
let base: string;
let service: Service;

beforeAll(async () => {
  stack = await startStack(
    testConfig({ cache: { ttl_seconds: 60 }, kms: { hedge_after_ms: 0 } }),
    'observability',
  );
  ({ url: base, service } = await stack.startService());
});
afterAll(async () => {
  await stack.close();
});

describe('GET /metrics', () => {
  it('counts requests, KMS and store calls, cache lookups and keys created — with no id or key in any label', async () => {
    const secretId = `metrics-private-id-${Math.random().toString(36).slice(2)}`;
    const first = await getKey(base, secretId);
    await getKey(base, secretId); // cached
    await Promise.all([getKey(base, 'burst'), getKey(base, 'burst'), getKey(base, 'burst')]);
    stack.kms.faults.set('us-east-1', { error: {} });
    try {
      await getKey(base, 'created-while-us-east-1-errs');
    } finally {
      stack.kms.faults.clear();
    }

    const reply = await fetch(`${base}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await reply.text();
    expect(text).toMatch(/^rkms_http_requests_total\{route="\/key",method="GET",status="200"\} [1-9]/m);
    expect(text).toMatch(
      /^rkms_http_request_duration_seconds_bucket\{le="0\.005",route="\/key",method="GET"\} \d+/m,
    );
    expect(text).toMatch(
      /^rkms_kms_calls_total\{region="us-east-1",operation="GenerateDataKey",outcome="ok"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^rkms_kms_calls_total\{region="us-east-1",operation="GenerateDataKey",outcome="transient"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^rkms_kms_call_duration_seconds_count\{region="us-east-2",operation="Encrypt"\} [1-9]/m,
    );
    expect(text).toMatch(/^rkms_store_calls_total\{operation="read",outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^rkms_store_calls_total\{operation="write",outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^rkms_cache_lookups_total\{result="hit"\} [1-9]/m);
    expect(text).toMatch(/^rkms_cache_lookups_total\{result="miss"\} [1-9]/m);
    expect(text).toMatch(/^rkms_single_flight_merged_total [1-9]/m);
    expect(text).toMatch(/^rkms_keys_created_total [1-9]/m);
    expect(text).toMatch(/^rkms_kms_circuit_state\{region="us-west-1"\} 0$/m);
    expect(text).toMatch(/^rkms_store_circuit_state 0$/m);
    expect(text).toMatch(/^rkms_cache_keys [1-9]/m);
    expect(text).toMatch(/^rkms_process_resident_memory_bytes \d+/m);
    expect(text).not.toContain(secretId);
    expect(text).not.toContain(first.body.key as string);
  });

  it('counts copies repaired and incomplete items served, by region', async () => {
    const id = `incomplete-${Math.random().toString(36).slice(2)}`;
    stack.kms.faults.set('us-west-1', { down: {} });
    try {
      await getKey(base, id);
      await service.repairer.settled(); // its repair failed: us-west-1 is still down
    } finally {
      stack.kms.faults.clear();
    }
    const reread = await stack.startService({ cache: { ...stack.config.cache, ttl_seconds: 0 } });
    await getKey(reread.url, id);
    await reread.service.repairer.settled();
    const text = await (await fetch(`${reread.url}/metrics`)).text();
    expect(text).toMatch(/^rkms_incomplete_items_served_total\{region="us-west-1"\} [1-9]/m);
    expect(text).toMatch(/^rkms_copies_repaired_total\{region="us-west-1"\} [1-9]/m);
  });
});

describe('gRPC calls in the metrics', () => {
  it('counts rkms.v1.Rkms calls by method and code, with their duration and no id in any label', async () => {
    const replica = await stack.startService({ grpc: { ...stack.config.grpc, port: 0 } });
    const grpc = new RkmsGrpcClient(await listenGrpc(replica.service));
    const secretId = `grpc-private-id-${Math.random().toString(36).slice(2)}`;
    try {
      expect((await grpc.getKey(secretId)).codeName).toBe('OK');
      expect((await grpc.getKey(secretId)).codeName).toBe('OK');
      expect((await grpc.getKey('')).codeName).toBe('INVALID_ARGUMENT');
      expect((await grpc.restoreKey(`${secretId}-none`)).codeName).toBe('NOT_FOUND');
    } finally {
      grpc.close();
    }
    const text = await (await fetch(`${replica.url}/metrics`)).text();
    expect(text).toMatch(/^rkms_grpc_requests_total\{method="GetKey",code="OK"\} 2$/m);
    expect(text).toMatch(/^rkms_grpc_requests_total\{method="GetKey",code="INVALID_ARGUMENT"\} 1$/m);
    expect(text).toMatch(/^rkms_grpc_requests_total\{method="RestoreKey",code="NOT_FOUND"\} 1$/m);
    expect(text).toMatch(/^rkms_grpc_request_duration_seconds_count\{method="GetKey"\} 3$/m);
    expect(text).toMatch(/^rkms_grpc_request_duration_seconds_bucket\{le="10",method="RestoreKey"\} 1$/m);
    expect(text).not.toContain(secretId);
  });
});

describe('GET /readyz', () => {
  it('is ready while serving, with each region’s last real call in the body', async () => {
    const ready = await call(base, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ready',
      phase: 'serving',
      store: { ping: 'ok', circuit: 'closed' },
    });
    expect((ready.body.kms as Record<string, unknown>)['us-east-1']).toMatchObject({ circuit: 'closed' });

    const other = await stack.startService({ cache: { ...stack.config.cache, ttl_seconds: 0 } });
    stack.kms.faults.set('us-east-2', { down: {} });
    try {
      await getKey(other.url, 'readiness-probe-key');
      await other.service.repairer.settled();
    } finally {
      stack.kms.faults.clear();
    }
    // The body reflects the calls just made, not only the circuit (still closed after one failure),
    // and how long ago each was made.
    const regions = (await call(other.url, 'GET', '/readyz')).body.kms as Record<
      string,
      { last_call: { age_ms: number } }
    >;
    expect(regions['us-east-2']).toMatchObject({
      circuit: 'closed',
      last_call: { outcome: 'transient', reason: 'connection reset' },
    });
    const age = regions['us-east-2']?.last_call.age_ms;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60_000);
  });

  it('stays ready while the shared store is down, and says so; ?strict=true turns it unready', async () => {
    const broken = await stack.startService({
      dynamodb: { ...stack.config.dynamodb, endpoint: 'http://127.0.0.1:9', max_attempts: 1 },
    });
    const lenient = await call(broken.url, 'GET', '/readyz');
    expect(lenient.status).toBe(200);
    expect(lenient.body).toMatchObject({
      status: 'ready',
      store: { ping: 'the key store is unavailable: read: connection refused' },
    });
    const strict = await call(broken.url, 'GET', '/readyz?strict=true');
    expect(strict.status).toBe(503);
    expect(strict.body.status).toBe('unavailable');
  });

  it('turns 503 while starting, with the key parts in place but not yet serving', async () => {
    const parts = await stack.keyParts();
    const lifecycle = new Lifecycle();
    const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
    await app.register(healthRoutes, { store: parts.store, kms: parts.kms, lifecycle });
    try {
      const starting = await app.inject({ method: 'GET', url: '/readyz' });
      expect(starting.statusCode).toBe(503);
      expect(starting.json()).toMatchObject({ status: 'unavailable', phase: 'starting' });
      lifecycle.serving();
      const serving = await app.inject({ method: 'GET', url: '/readyz' });
      expect(serving.statusCode).toBe(200);
      expect(serving.json()).toMatchObject({ status: 'ready', phase: 'serving' });
    } finally {
      await app.close();
    }
  });

  it('turns 503 when no KMS region can use its key, says why, and is ready again once the keys are fixed', async () => {
    const suffix = Math.random().toString(36).slice(2);
    const kms = {
      ...stack.config.kms,
      key_ids: Object.fromEntries(stack.config.kms.regions.map((r) => [r, `alias/readyz-${suffix}-${r}`])),
      circuit: { ...stack.config.kms.circuit, reset_after_ms: 200 },
    };
    const broken = await stack.startService({ kms });
    expect((await getKey(broken.url, 'no-usable-key')).status).toBe(503);
    const unready = await call(broken.url, 'GET', '/readyz');
    expect(unready.status).toBe(503);
    expect(unready.body).toMatchObject({ status: 'unavailable', phase: 'serving' });
    // The region the failed creation never reached was probed by the readiness check itself.
    const notFound = (region: string) => `${region}: key not found (NotFoundException)`;
    expect(unready.body.reason).toBe(
      `no KMS region can use its configured key (${stack.config.kms.regions.map(notFound).join('; ')}): ` +
        "fix the keys or the role's permissions",
    );
    // One region's key still usable is enough to serve: only the replica's own, complete breakage unreadies it.
    expect((await call(base, 'GET', '/readyz')).status).toBe(200);

    // The keys appear; nothing but the readiness probe calls KMS, and it finds them.
    await ensureEmbeddedKeys({ ...stack.config, kms }, stack.kms.url);
    let ready = unready;
    for (const started = Date.now(); ready.status !== 200;) {
      expect(Date.now() - started, 'ready again').toBeLessThan(30_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await call(broken.url, 'GET', '/readyz');
    }
    expect(ready.body).not.toHaveProperty('reason');
    expect((await getKey(broken.url, 'usable-key-again')).status).toBe(200);
  });

  it('turns 503 while draining', async () => {
    const fresh = await stack.startService();
    expect((await call(fresh.url, 'GET', '/readyz')).status).toBe(200);
    fresh.service.lifecycle.draining();
    const draining = await call(fresh.url, 'GET', '/readyz');
    expect(draining.status).toBe(503);
    expect(draining.body).toMatchObject({ status: 'unavailable', phase: 'draining' });
    // A draining replica still answers what reaches it.
    expect((await getKey(fresh.url, 'while-draining')).status).toBe(200);
  });
});

describe('GET /openapi.json', () => {
  type Responses = Record<
    string,
    {
      description?: string;
      headers?: Record<string, { description?: string }>;
      content?: Record<string, { schema?: { example?: unknown; examples?: unknown } }>;
    }
  >;
  interface Operation {
    parameters?: { name: string; description?: string }[];
    security?: Record<string, string[]>[];
    responses: Responses;
  }
  interface Document {
    paths: Record<string, Record<string, Operation>>;
    components?: { securitySchemes?: Record<string, unknown> };
  }

  /** `method path` of every route the server answers, from Fastify's own routing tree. */
  function answeredRoutes(): string[] {
    const routes: string[] = [];
    const segments: string[] = [];
    for (const line of service.app.printRoutes({ commonPrefix: false }).split('\n')) {
      const match = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
      if (!match) continue;
      const [, indent = '', segment = '', methods] = match;
      const depth = indent.length / 4;
      segments.length = depth;
      segments.push(segment);
      for (const method of methods?.split(', ') ?? [])
        routes.push(`${method.toLowerCase()} ${segments.join('')}`);
    }
    return routes;
  }

  it('is a valid OpenAPI 3 document listing exactly the routes the server answers', async () => {
    const reply = await fetch(`${base}/openapi.json`);
    expect(reply.status).toBe(200);
    const document = (await reply.json()) as Document;
    const validator = new Validator();
    const result = await validator.validate(document as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);

    const listed = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method} ${path}`),
    );
    const answered = answeredRoutes();
    expect(answered).toContain('post /api/v1/key/restore');
    expect(answered).toContain('get /metrics');
    expect(answered).toHaveLength(12);
    expect(listed.sort()).toEqual(answered.sort());
    for (const entry of listed) {
      const [method = '', url = ''] = entry.split(' ');
      expect(service.app.hasRoute({ method: method.toUpperCase(), url }), entry).toBe(true);
    }
  });

  it('describes the id parameter, every answer and error, with the README examples', async () => {
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as Document;
    const get = document.paths['/key']?.get;
    expect(get?.parameters?.find((p) => p.name === 'id')?.description).toMatch(/1–512 characters/);
    expect(Object.keys(get?.responses ?? {}).sort()).toEqual([
      '200',
      '400',
      '401',
      '403',
      '404',
      '409',
      '410',
      '421',
      '429',
      '500',
      '503',
      'default',
    ]);
    for (const [status, response] of Object.entries(get?.responses ?? {})) {
      expect(response.description, status).toBeTruthy();
    }
    expect(JSON.stringify(get?.responses['200'])).toContain('1kZ4L+m6Q1uh4z2wdr15YBWRxyu0VJJiJ7aTKv8UpWc=');
    expect(get?.responses.default?.description).toMatch(/NotFound \(404, a method or path not listed/);
    // Methods with a body can be refused for it.
    for (const [path, method] of [
      ['/key', 'post'],
      ['/key', 'delete'],
      ['/key/restore', 'post'],
    ] as const) {
      const responses = Object.keys(document.paths[path]?.[method]?.responses ?? {});
      expect(responses, `${method} ${path}`).toEqual(expect.arrayContaining(['413', '415', 'default']));
    }
    expect(Object.keys(document.paths['/key']?.post?.responses ?? {})).toContain('201');
  });

  it('describes the headers of every answer and the bearer token of the key routes', async () => {
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as Document;
    expect(document.components?.securitySchemes?.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const where = `${method} ${path}`;
        const keyRoute = path.endsWith('/key') || path.endsWith('/key/restore');
        expect(operation.security, where).toEqual(keyRoute ? [{ bearerAuth: [] }, {}] : undefined);
        for (const [status, response] of Object.entries(operation.responses)) {
          expect(Object.keys(response.headers ?? {}), `${where} ${status}`).toContain('x-request-id');
          if (keyRoute && (status === '429' || status === '503'))
            expect(response.headers, `${where} ${status}`).toHaveProperty('retry-after');
          if (status === '401') expect(response.headers, where).toHaveProperty('www-authenticate');
        }
      }
    }
    expect(document.paths['/key']?.get?.responses['200']?.headers).toHaveProperty('cache-control');
    // What the document says is what the server sends.
    const answer = await fetch(`${base}/readyz`);
    expect(answer.headers.get('x-request-id')).toBeTruthy();
  });
});
