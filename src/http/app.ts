import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { KeyService } from '../keys/service.js';
import type { Kms } from '../kms/kms.js';
import type { Store } from '../store/store.js';
import { errorHandler, notFoundHandler, refuseUndecodableQuery } from './errors.js';
import { echoRequestId, requestIdOf } from './request-id.js';
import { createKeyRoute } from './routes/create-key.js';
import { deleteKeyRoute } from './routes/delete-key.js';
import { getKeyRoute } from './routes/get-key.js';
import { healthRoutes } from './routes/health.js';
import { restoreKeyRoute } from './routes/restore-key.js';
import { installSecurity, securityServerOptions, type HttpSecurity } from './security/index.js';

export interface AppDependencies {
  keys: KeyService;
  store: Store;
  kms: Kms;
  logger: Logger;
  /** The original RKMS served `/api/<api_version>/key`; the same routes answer there too. */
  apiVersion: string;
  /** Authentication, authorization, audit, rate limits, TLS and the server's limits. */
  security: HttpSecurity;
}

/** Composes the HTTP server: error handling, then the key routes at `/` and `/api/<version>`, then health. */
export async function buildApp({
  keys,
  store,
  kms,
  logger,
  apiVersion,
  security,
}: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    // HEAD /key would create keys; only the declared methods answer.
    exposeHeadRoutes: false,
    return503OnClosing: true,
    bodyLimit: 16 * 1024,
    genReqId: requestIdOf,
    requestIdLogLabel: 'requestId',
    // Bad URLs and the like, refused before any hook runs, get RKMS's error body and request id too.
    frameworkErrors: (error, request, reply) => {
      void reply.header('x-request-id', request.id);
      void errorHandler(error, request, reply);
    },
    ...securityServerOptions(security, logger),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onRequest', echoRequestId);
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
  await app.register(healthRoutes, { store, kms });
  return app as unknown as FastifyInstance;
}
