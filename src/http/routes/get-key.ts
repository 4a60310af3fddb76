import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { KeyService } from '../../keys/service.js';
import { IdQuery, KeyBody, errorResponses } from '../schemas.js';

/**
 * GET /key?id=<id> — the data key for the id, created on the first call.
 * 409 while the key is pending deletion: a deleted id never silently gets a new key.
 */
export const getKeyRoute: FastifyPluginAsyncTypebox<{ keys: KeyService }> = async (app, { keys }) => {
  app.get(
    '/key',
    { schema: { querystring: IdQuery, response: { 200: KeyBody, ...errorResponses } } },
    async (request, reply) => {
      const { id } = request.query;
      const key = await keys.getKey(id);
      const encoded = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64');
      key.fill(0);
      // Never let a proxy or browser keep a key.
      void reply.header('cache-control', 'no-store');
      return { id, key: encoded };
    },
  );
};
