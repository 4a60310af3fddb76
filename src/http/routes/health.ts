import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { RegionalKms } from '../../kms/pool.js';
import type { Store } from '../../store/store.js';
import { describeAwsError } from '../../config/aws.js';

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  store: Type.String(),
  kms: Type.Record(Type.String(), Type.String()),
});

/**
 * GET /healthz — the process is alive (for a liveness probe).
 * GET /readyz — the store answers and at least one KMS region's circuit is not open.
 */
export const healthRoutes: FastifyPluginAsyncTypebox<{ store: Store; kms: RegionalKms }> = async (
  app,
  { store, kms },
) => {
  app.get(
    '/healthz',
    { schema: { response: { 200: Type.Object({ status: Type.String() }) } } },
    async () => ({
      status: 'ok',
    }),
  );

  app.get(
    '/readyz',
    { schema: { response: { 200: Readiness, 503: Readiness } } },
    async (_request, reply) => {
      const storeState = await store.ping().then(
        () => 'ok',
        (err: unknown) => describeAwsError(err),
      );
      const regions = Object.fromEntries(kms.regions.map((r) => [r.name, r.circuit]));
      const ready = storeState === 'ok' && kms.regions.some((r) => r.circuit !== 'open');
      return reply
        .status(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'unavailable', store: storeState, kms: regions });
    },
  );
};
