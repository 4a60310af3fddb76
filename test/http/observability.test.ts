import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/cli/compose.js';
import { testConfig } from '../support/config.js';
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
    await getKey(base, 'created-while-us-east-1-errs');
    stack.kms.faults.clear();

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
    await getKey(base, id);
    await service.repairer.settled(); // its repair failed: us-west-1 is still down
    stack.kms.faults.clear();
    const reread = await stack.startService({ cache: { ...stack.config.cache, ttl_seconds: 0 } });
    await getKey(reread.url, id);
    await reread.service.repairer.settled();
    const text = await (await fetch(`${reread.url}/metrics`)).text();
    expect(text).toMatch(/^rkms_incomplete_items_served_total\{region="us-west-1"\} [1-9]/m);
    expect(text).toMatch(/^rkms_copies_repaired_total\{region="us-west-1"\} [1-9]/m);
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
    await getKey(other.url, 'readiness-probe-key');
    await other.service.repairer.settled();
    stack.kms.faults.clear();
    // The body reflects the calls just made, not only the circuit (still closed after one failure).
    const regions = (await call(other.url, 'GET', '/readyz')).body.kms as Record<string, unknown>;
    expect(regions['us-east-2']).toMatchObject({
      circuit: 'closed',
      last_call: { outcome: 'transient', reason: 'connection reset' },
    });
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

  it('turns 503 while starting and while draining', async () => {
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
  const EXPECTED = [
    ...['', '/api/v1'].flatMap((prefix) => [
      `get ${prefix}/key`,
      `post ${prefix}/key`,
      `delete ${prefix}/key`,
      `post ${prefix}/key/restore`,
    ]),
    'get /healthz',
    'get /readyz',
  ];

  it('is a valid OpenAPI 3 document listing exactly the routes the server answers', async () => {
    const reply = await fetch(`${base}/openapi.json`);
    expect(reply.status).toBe(200);
    const document = (await reply.json()) as { paths: Record<string, Record<string, unknown>> };
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);

    const listed = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method} ${path}`),
    );
    expect(listed.sort()).toEqual([...EXPECTED].sort());
    for (const entry of listed) {
      const [method = '', url = ''] = entry.split(' ');
      expect(service.app.hasRoute({ method: method.toUpperCase(), url }), entry).toBe(true);
    }
  });

  it('describes the id parameter, every answer and error, with the README examples', async () => {
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: { name: string; description?: string }[];
            responses: Record<
              string,
              {
                description?: string;
                content?: Record<string, { schema?: { example?: unknown; examples?: unknown } }>;
              }
            >;
          }
        >
      >;
    };
    const get = document.paths['/key']?.get;
    expect(get?.parameters?.find((p) => p.name === 'id')?.description).toMatch(/1–512 characters/);
    expect(Object.keys(get?.responses ?? {}).sort()).toEqual([
      '200',
      '400',
      '401',
      '403',
      '409',
      '410',
      '421',
      '429',
      '500',
      '503',
    ]);
    for (const [status, response] of Object.entries(get?.responses ?? {})) {
      expect(response.description, status).toBeTruthy();
    }
    expect(JSON.stringify(get?.responses['200'])).toContain('1kZ4L+m6Q1uh4z2wdr15YBWRxyu0VJJiJ7aTKv8UpWc=');
    expect(Object.keys(document.paths['/key']?.post?.responses ?? {})).toContain('201');
  });
});
