import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { KeyService } from '../keys/service.js';
import type { Kms } from '../kms/kms.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';
import { numberRequestsPerConnection } from './connection-order.js';
import { closeConnectionsWhileDraining } from './drain.js';
import { errorHandler, notFoundHandler, refuseUndecodableQuery } from './errors.js';
import type { RkmsInstance } from './instance.js';
import type { Lifecycle } from './lifecycle.js';
import { openApiDocument } from './openapi.js';
import { echoRequestId, requestIdOf } from './request-id.js';
import { installRequestLog, RequestLogController, requestLoggerFactory } from './request-log.js';
import { createKeyRoute } from './routes/create-key.js';
import { deleteKeyRoute } from './routes/delete-key.js';
import { getKeyRoute } from './routes/get-key.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { openApiRoute } from './routes/openapi.js';
import { restoreKeyRoute } from './routes/restore-key.js';
import { installSecurity, securityServerOptions, type HttpSecurity } from './security/index.js';

export interface AppDependencies {
  keys: KeyService;
  store: Store;
  kms: Kms;
  metrics: Metrics;
  lifecycle: Lifecycle;
  logger: Logger;
  /** The original RKMS served `/api/<api_version>/key`; the same routes answer there too. */
  apiVersion: string;
  /** False when `[metrics] port` serves `/metrics` on a port of its own. */
  metricsRoute: boolean;
  /** Authentication, authorization, audit, rate limits, TLS and the server's limits. */
  security: HttpSecurity;
}

/**
 * Composes the HTTP server: request ids, security, error handling and metrics first, then
 * the key routes at `/` and `/api/<version>`, then health, metrics and the OpenAPI document.
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { keys, store, kms, metrics, lifecycle, logger, apiVersion, security } = deps;
  const app = Fastify({
    // Fastify logs nothing itself; each request's logger is the service's (request-log.ts).
    logger: false,
    childLoggerFactory: requestLoggerFactory(logger),
    logController: new RequestLogController(),
    // HEAD /key would create keys; only the declared methods answer.
    exposeHeadRoutes: false,
    // While draining, requests already on their way (queued on a kept-alive connection)
    // are answered, not refused; see drain.ts.
    return503OnClosing: false,
    bodyLimit: 16 * 1024,
    genReqId: requestIdOf,
    // `example` annotates schemas for the OpenAPI document; validation ignores it.
    ajv: { customOptions: { keywords: ['example'] } },
    // Bad URLs and the like, refused before any hook runs, get RKMS's error body and request id too.
    frameworkErrors: (error, request, reply) => {
      void reply.header('x-request-id', request.id);
      void errorHandler(error, request, reply);
    },
    ...securityServerOptions(security, logger),
    // Typed with pino's logger: every request's logger is a pino child (requestLoggerFactory).
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as RkmsInstance;

  await app.register(swagger, { openapi: openApiDocument(apiVersion) });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  installRequestLog(app, logger, metrics);
  app.addHook('onRequest', echoRequestId);
  numberRequestsPerConnection(app);
  closeConnectionsWhileDraining(app, lifecycle);
  // --- security (issue #7): Host check, requests per connection, rate limits
  const guardKeyRoutes = await installSecurity(app, security);
  // --- end security
  app.addHook('onRequest', refuseUndecodableQuery);
  for (const prefix of ['', `/api/${apiVersion}`]) {
    await app.register(
      async (scope) => {
        guardKeyRoutes(scope);
        await scope.register(getKeyRoute, { keys });
        await scope.register(createKeyRoute, { keys });
        await scope.register(deleteKeyRoute, { keys });
        await scope.register(restoreKeyRoute, { keys });
      },
      { prefix },
    );
  }
  await app.register(healthRoutes, { store, kms, lifecycle });
  if (deps.metricsRoute) await app.register(metricsRoute, { metrics });
  await app.register(openApiRoute);
  return app as unknown as FastifyInstance;
}
