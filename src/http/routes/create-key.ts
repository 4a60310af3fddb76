import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { KeyService } from '../../keys/service.js';
import { IdQuery, KeyBody, errorResponses } from '../schemas.js';
import { keyOptions, recordServed } from '../security/index.js';
import { keyBody } from './key-body.js';

/**
 * POST /key?id=<id> — creates the id's key explicitly: 201 for an id that has none or
 * whose key was destroyed, 409 KeyExists otherwise. The only way a destroyed id gets a new key.
 */
export const createKeyRoute: FastifyPluginCallbackTypebox<{ keys: KeyService }> = (app, { keys }, done) => {
  app.post(
    '/key',
    {
      config: { keyAction: 'create' },
      schema: { querystring: IdQuery, response: { 201: KeyBody, ...errorResponses } },
    },
    async (request, reply) => {
      const served = await keys.createKey(request.query.id, keyOptions(request));
      recordServed(request, served);
      return reply.status(201).send(keyBody(request.query.id, served.key, reply));
    },
  );
  done();
};
