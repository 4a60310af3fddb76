import type { FastifyPluginCallback } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';
import { requestIdHeader } from '../schemas.js';

const schema = {
  summary: 'Prometheus metrics',
  description:
    'Prometheus text exposition (prom-client) of requests, KMS and store calls, circuits, hedges, cache, ' +
    'keys created and repaired, refusals and the process. No label holds an id or anything derived from a ' +
    'key. Served here unless [metrics] port serves it on a port of its own.',
  tags: ['operations'],
  produces: ['text/plain'],
  response: {
    200: {
      type: 'string',
      description: 'The metrics, Content-Type: text/plain; version=0.0.4',
      headers: requestIdHeader,
    },
  },
};

/** GET /metrics — Prometheus exposition of RKMS's metrics (no id or key material in any label). */
export const metricsRoute: FastifyPluginCallback<{ metrics: Metrics }> = (app, { metrics }, done) => {
  app.get('/metrics', { schema }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.text()),
  );
  done();
};
