import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { KeyService } from '../../keys/service.js';
import { IdQuery, KeyBody, errorResponses } from '../schemas.js';
import { keyOptions, recordServed } from '../security/index.js';
import { keyBody } from './key-body.js';

/**
 * GET /key?id=<id> — the data key for the id, created on the first call. Never a new key
 * for an id whose key is pending deletion (409) or was destroyed (410).
 */
export const getKeyRoute: FastifyPluginCallbackTypebox<{ keys: KeyService }> = (app, { keys }, done) => {
  app.get(
    '/key',
    {
      config: { keyAction: 'get' },
      schema: { querystring: IdQuery, response: { 200: KeyBody, ...errorResponses } },
    },
    async (request, reply) => {
      // Creating the key of a new id needs the `create` action too (keyOptions checks it).
      const served = await keys.getKey(request.query.id, keyOptions(request));
      recordServed(request, served);
      return keyBody(request.query.id, served.key, reply);
    },
  );
  done();
};
