import { status as Code } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/cli/compose.js';
import { accessControl } from '../../src/grpc/security/index.js';
import { createGrpcServer, type GrpcServer, type GrpcServerOptions } from '../../src/grpc/server.js';
import { grpcLimitsOf } from '../../src/grpc/transport/limits.js';
import { ensureEmbeddedKeys } from '../../src/cli/embedded.js';
import { recordKey } from '../support/audit.js';
import { testConfig } from '../support/config.js';
import { GRPC, HealthClient, listenGrpc, ReflectionClient } from '../support/grpc.js';
import { getKey } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
let service: Service;
let http: string;
let address: string;
const extraServers: GrpcServer[] = [];

beforeAll(async () => {
  stack = await startStack(testConfig({ kms: { hedge_after_ms: 0 } }), 'grpc-server');
  ({ service, url: http } = await stack.startService(GRPC));
  address = await listenGrpc(service);
});

afterAll(async () => {
  for (const server of extraServers) await server.close();
  await stack.close();
});

/** Another gRPC server on the same replica's key service, with hooks. */
async function serverWith(
  options: Partial<GrpcServerOptions>,
): Promise<{ server: GrpcServer; address: string }> {
  const server = createGrpcServer({
    keys: service.keys,
    logger: stack.logger,
    serving: () => service.lifecycle.phase === 'serving',
    shutdownTimeoutMs: 5_000,
    access: accessControl(service.security),
    limits: grpcLimitsOf(stack.config),
    ...options,
  });
  extraServers.push(server);
  return { server, address: await server.listen('127.0.0.1', 0) };
}

describe('server reflection (what grpcurl uses)', () => {
  it('lists rkms.v1.Rkms and the health service', async () => {
    const reflection = new ReflectionClient(address);
    try {
      expect(await reflection.listServices()).toEqual(
        expect.arrayContaining(['rkms.v1.Rkms', 'grpc.health.v1.Health']),
      );
    } finally {
      reflection.close();
    }
  });

  it('describes rkms.v1.Rkms well enough to call GetKey with JSON and get the key curl gets', async () => {
    const reflection = new ReflectionClient(address);
    try {
      const root = await reflection.resolve('rkms.v1.Rkms');
      expect(Object.keys(root.lookupService('rkms.v1.Rkms').methods)).toEqual([
        'GetKey',
        'CreateKey',
        'DeleteKey',
        'RestoreKey',
      ]);
      // grpcurl -plaintext -d '{"id":"by-reflection"}' <address> rkms.v1.Rkms/GetKey
      const answer = await reflection.call('rkms.v1.Rkms', 'GetKey', { id: 'by-reflection' });
      recordKey(answer.key as string);
      expect(answer).toEqual((await getKey(http, 'by-reflection')).body);
      const status = await reflection.call('rkms.v1.Rkms', 'DeleteKey', { id: 'by-reflection' });
      expect(status).toMatchObject({ id: 'by-reflection', state: 'PendingDeletion' });
    } finally {
      reflection.close();
    }
  });
});

/** Polls `condition` every 100 ms, failing after 30 s (a generous bound for a busy machine). */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (const started = Date.now(); !(await condition());) {
    expect(Date.now() - started, what).toBeLessThan(30_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('grpc.health.v1.Health', () => {
  it('answers SERVING for the server and for rkms.v1.Rkms, NOT_FOUND for other services', async () => {
    const health = new HealthClient(address);
    try {
      expect((await health.check('')).message).toEqual({ status: 'SERVING' });
      expect((await health.check('rkms.v1.Rkms')).message).toEqual({ status: 'SERVING' });
      expect((await health.check('no.such.Service')).code).toBe(Code.NOT_FOUND);
      expect((await health.list()).message).toEqual({
        statuses: { '': { status: 'SERVING' }, 'rkms.v1.Rkms': { status: 'SERVING' } },
      });
    } finally {
      health.close();
    }
  });

  it('stays SERVING while the shared store is down, and turns NOT_SERVING while draining, as /readyz does', async () => {
    const down = await stack.startService({
      ...GRPC,
      dynamodb: { ...stack.config.dynamodb, endpoint: 'http://127.0.0.1:9', max_attempts: 1 },
    });
    const health = new HealthClient(await listenGrpc(down.service));
    try {
      expect((await health.check('')).message).toEqual({ status: 'SERVING' });
      expect((await fetch(`${down.url}/readyz`)).status).toBe(200);
      down.service.lifecycle.draining();
      expect((await health.check('')).message).toEqual({ status: 'NOT_SERVING' });
      expect((await fetch(`${down.url}/readyz`)).status).toBe(503);
    } finally {
      health.close();
    }
  });

  it('turns NOT_SERVING while no KMS region can use its key, and SERVING once the keys are fixed, as /readyz does', async () => {
    const suffix = Math.random().toString(36).slice(2);
    const kms = {
      ...stack.config.kms,
      key_ids: Object.fromEntries(stack.config.kms.regions.map((r) => [r, `alias/health-${suffix}-${r}`])),
      circuit: { ...stack.config.kms.circuit, reset_after_ms: 200 },
    };
    const broken = await stack.startService({ ...GRPC, kms });
    const health = new HealthClient(await listenGrpc(broken.service));
    try {
      expect((await getKey(broken.url, 'no-usable-key')).status).toBe(503);
      await until(async () => (await health.check('')).message?.status === 'NOT_SERVING', 'NOT_SERVING');
      expect((await fetch(`${broken.url}/readyz`)).status).toBe(503);
      // Only the health checks' own probes call KMS now, and they find the keys once they exist.
      await ensureEmbeddedKeys({ ...stack.config, kms }, stack.kms.url);
      await until(async () => (await health.check('rkms.v1.Rkms')).message?.status === 'SERVING', 'SERVING');
    } finally {
      health.close();
    }
  });

  it('tells watchers the status at once, and NOT_SERVING when the server shuts down', async () => {
    const { server, address: own } = await serverWith({});
    const health = new HealthClient(own);
    const seen: string[] = [];
    const watch = health.watch('rkms.v1.Rkms');
    const ended = new Promise<void>((resolve) => {
      watch.on('data', ({ status }: { status: string }) => {
        seen.push(status);
        if (status === 'SERVING') void server.close();
      });
      watch.on('end', resolve);
      watch.on('error', () => {
        resolve();
      });
    });
    await ended;
    health.close();
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
  });
});
