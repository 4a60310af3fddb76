import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Kms } from '../../kms/kms.js';
import type { Store } from '../../store/store.js';
import type { Lifecycle } from '../lifecycle.js';

/** A store ping that takes longer than this counts as failed: a probe must answer quickly. */
const PING_TIMEOUT_MS = 1_000;

const LastCall = Type.Object({
  at: Type.String(),
  operation: Type.String(),
  outcome: Type.String({ description: 'ok, throttled, transient, misconfigured or rejected' }),
  reason: Type.Optional(Type.String()),
});

const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
    phase: Type.Union([Type.Literal('starting'), Type.Literal('serving'), Type.Literal('draining')]),
    store: Type.Object({
      ping: Type.String({ description: '"ok", or what went wrong (a short reason, no endpoint)' }),
      circuit: Type.String(),
      last_failure: Type.Optional(Type.Object({ at: Type.String(), reason: Type.String() })),
    }),
    kms: Type.Record(
      Type.String(),
      Type.Object({
        circuit: Type.String({ description: 'closed, half-open (a probe is due) or open (skipped)' }),
        tripped_by: Type.Optional(Type.String({ description: 'failing or misconfigured' })),
        last_call: Type.Optional(LastCall),
        latency_ms: Type.Optional(Type.Number()),
      }),
    ),
  },
  {
    description:
      'Whether this replica can serve (only while starting or draining is it unready), and what its dependencies did lately',
  },
);

const ReadinessQuery = Type.Object({
  strict: Type.Optional(
    Type.Boolean({
      description: 'also unready while the key store does not answer or every KMS region is skipped',
    }),
  ),
});

/**
 * GET /healthz — the process is alive (liveness).
 * GET /readyz — this replica can serve: 503 only while starting or draining. An outage of
 * what every replica shares (the table, every KMS region) shows in the body and the
 * metrics but leaves the replica ready, so the load balancer keeps sending requests that
 * get RKMS's own 503 with Retry-After, or a cached key, instead of connection errors.
 */
export const healthRoutes: FastifyPluginCallbackTypebox<{ store: Store; kms: Kms; lifecycle: Lifecycle }> = (
  app,
  { store, kms, lifecycle },
  done,
) => {
  app.get(
    '/healthz',
    {
      schema: {
        description: 'Liveness: 200 while the process runs',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        description: 'Readiness of this replica, with the state of the key store and each KMS region',
        querystring: ReadinessQuery,
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (request, reply) => {
      const ping = await store.ping(AbortSignal.timeout(PING_TIMEOUT_MS)).then(
        () => 'ok',
        (err: unknown) => (err instanceof Error ? err.message : 'unavailable'),
      );
      const regions = kms.health();
      const { circuit, lastFailure } = store.health;
      const dependenciesDown = ping !== 'ok' || regions.every((r) => r.circuit === 'open');
      const ready = lifecycle.phase === 'serving' && !(request.query.strict && dependenciesDown);
      return reply.status(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'unavailable',
        phase: lifecycle.phase,
        store: { ping, circuit, ...(lastFailure ? { last_failure: lastFailure } : {}) },
        kms: Object.fromEntries(
          regions.map((r) => [
            r.region,
            {
              circuit: r.circuit,
              ...(r.trippedBy ? { tripped_by: r.trippedBy } : {}),
              ...(r.lastCall ? { last_call: r.lastCall } : {}),
              ...(r.latencyMs !== undefined ? { latency_ms: r.latencyMs } : {}),
            },
          ]),
        ),
      });
    },
  );
  done();
};
