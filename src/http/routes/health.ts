import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { everyKeyUnusable, probeUnusableKeys, unusableKeysReason } from '../../kms/key-usability.js';
import type { Kms } from '../../kms/kms.js';
import type { RegionHealth } from '../../kms/region.js';
import type { Store } from '../../store/store.js';
import type { Lifecycle } from '../lifecycle.js';
import { requestIdHeader } from '../schemas.js';

/** A store ping that takes longer than this counts as failed: a probe must answer quickly. */
const PROBE_TIMEOUT_MS = 1_000;

const LastCall = Type.Object({
  at: Type.String({ description: 'ISO-8601: when the call ended' }),
  age_ms: Type.Integer({ description: 'How long ago that was: an old call says little about now' }),
  operation: Type.String(),
  outcome: Type.String({ description: 'ok, throttled, transient, misconfigured or rejected' }),
  reason: Type.Optional(Type.String()),
});

const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
    phase: Type.Union([Type.Literal('starting'), Type.Literal('serving'), Type.Literal('draining')]),
    reason: Type.Optional(
      Type.String({ description: 'Why this replica cannot serve, when it is serving but unready' }),
    ),
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
      'Whether this replica can serve (unready only while starting, draining, or while no KMS region can use ' +
      'its configured key), and what its dependencies did lately',
    headers: requestIdHeader,
  },
);

const ReadinessQuery = Type.Object({
  strict: Type.Optional(
    Type.Boolean({
      description: 'also unready while the key store does not answer or every KMS region is skipped',
    }),
  ),
});

function regionBody(region: RegionHealth, now: number) {
  const { lastCall } = region;
  return {
    circuit: region.circuit,
    ...(region.trippedBy ? { tripped_by: region.trippedBy } : {}),
    ...(lastCall
      ? { last_call: { ...lastCall, age_ms: Math.max(0, Math.round(now - Date.parse(lastCall.at))) } }
      : {}),
    ...(region.latencyMs !== undefined ? { latency_ms: region.latencyMs } : {}),
  };
}

/**
 * GET /healthz — the process is alive (liveness).
 * GET /readyz — this replica can serve: 503 while starting or draining, and while none of
 * its KMS keys is usable (its own configuration is broken). An outage of what every
 * replica shares (the table, every KMS region) shows in the body and the metrics but
 * leaves the replica ready, so the load balancer keeps sending requests that get RKMS's
 * own 503 with Retry-After, or a cached key, instead of connection errors.
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
        tags: ['health'],
        response: {
          200: Type.Object(
            { status: Type.Literal('ok') },
            { description: 'Alive', headers: requestIdHeader },
          ),
        },
      },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        description: 'Readiness of this replica, with the state of the key store and each KMS region',
        tags: ['health'],
        querystring: ReadinessQuery,
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (request, reply) => {
      const [ping] = await Promise.all([
        store.ping(AbortSignal.timeout(PROBE_TIMEOUT_MS)).then(
          () => 'ok',
          (err: unknown) => (err instanceof Error ? err.message : 'unavailable'),
        ),
        probeUnusableKeys(kms),
      ]);
      const regions = kms.health();
      const { circuit, lastFailure } = store.health;
      const keysUnusable = everyKeyUnusable(regions);
      const dependenciesDown = ping !== 'ok' || regions.every((r) => r.circuit === 'open');
      const ready =
        lifecycle.phase === 'serving' && !keysUnusable && !(request.query.strict && dependenciesDown);
      const now = Date.now();
      return reply.status(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'unavailable',
        phase: lifecycle.phase,
        ...(keysUnusable ? { reason: unusableKeysReason(regions) } : {}),
        store: { ping, circuit, ...(lastFailure ? { last_failure: lastFailure } : {}) },
        kms: Object.fromEntries(regions.map((r) => [r.region, regionBody(r, now)])),
      });
    },
  );
  done();
};
