import type { FastifyPluginCallback } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';

/** GET /metrics — Prometheus exposition of RKMS's metrics (no id or key material in any label). */
export const metricsRoute: FastifyPluginCallback<{ metrics: Metrics }> = (app, { metrics }, done) => {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.text()),
  );
  done();
};
