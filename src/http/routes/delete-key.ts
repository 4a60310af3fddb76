import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { KeyService } from '../../keys/service.js';
import { IdQuery, KeyStatusBody, errorResponses } from '../schemas.js';
import { keyStatusBody } from './key-status.js';

/**
 * DELETE /key?id=<id> — schedules the key's destruction after the deletion window
 * (at once when the window is 0 and no cache can still hold it). Idempotent.
 */
export const deleteKeyRoute: FastifyPluginCallbackTypebox<{ keys: KeyService }> = (app, { keys }, done) => {
  app.delete(
    '/key',
    {
      config: { keyAction: 'delete' },
      schema: { querystring: IdQuery, response: { 200: KeyStatusBody, ...errorResponses } },
    },
    async (request) => keyStatusBody(await keys.scheduleDeletion(request.query.id)),
  );
  done();
};
