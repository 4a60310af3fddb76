import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Kms } from '../../kms/kms.js';
import type { Store } from '../../store/store.js';

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  store: Type.String(),
  kms: Type.Record(Type.String(), Type.String()),
});

/**
 * GET /healthz — the process is alive (for a liveness probe).
 * GET /readyz — the store answers and at least one KMS region's circuit is not open.
 */
export const healthRoutes: FastifyPluginCallbackTypebox<{ store: Store; kms: Kms }> = (
  app,
  { store, kms },
  done,
) => {
  app.get('/healthz', { schema: { response: { 200: Type.Object({ status: Type.String() }) } } }, () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    { schema: { response: { 200: Readiness, 503: Readiness } } },
    async (_request, reply) => {
      const storeState = await store.ping().then(
        () => 'ok',
        (err: unknown) => (err instanceof Error ? err.message : 'unavailable'),
      );
      const regions = kms.health();
      const ready = storeState === 'ok' && regions.some((r) => r.circuit !== 'open');
      return reply.status(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'unavailable',
        store: storeState,
        kms: Object.fromEntries(regions.map((r) => [r.region, r.circuit])),
      });
    },
  );
  done();
};
