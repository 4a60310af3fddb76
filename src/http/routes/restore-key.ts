import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { KeyService } from '../../keys/service.js';
import { IdQuery, KeyStatusBody, errorResponses } from '../schemas.js';
import { keyStatusBody } from './key-status.js';

/** POST /key/restore?id=<id> — cancels a pending deletion; the same key is served again. */
export const restoreKeyRoute: FastifyPluginCallbackTypebox<{ keys: KeyService }> = (app, { keys }, done) => {
  app.post(
    '/key/restore',
    {
      config: { keyAction: 'restore' },
      schema: { querystring: IdQuery, response: { 200: KeyStatusBody, ...errorResponses } },
    },
    async (request) => keyStatusBody(await keys.restore(request.query.id)),
  );
  done();
};
