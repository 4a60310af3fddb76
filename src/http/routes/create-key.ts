import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { KeyService } from '../../keys/service.js';
import { IdQuery, KeyBody, bodyErrors, commonErrors, errorResponse, keyRouteSecurity } from '../schemas.js';
import { keyOptions, recordServed } from '../security/index.js';
import { keyBody } from './key-body.js';

const schema = {
  summary: 'Create the data key of an id explicitly',
  description:
    'Creates a key for an id that has none, or whose key was destroyed — the only way such an id gets a key ' +
    'again. 409 KeyExists for an id that has a key, enabled or pending deletion.',
  tags: ['keys'],
  security: keyRouteSecurity,
  querystring: IdQuery,
  response: {
    201: KeyBody,
    ...commonErrors,
    ...bodyErrors,
    409: errorResponse('KeyExists: the id already has a key (GET /key returns it), or KeyIntegrityError', {
      error_type: 'KeyExists',
      error_message:
        'the id "tenant-42" already has a key; get it instead (GET /key?id=..., or GetKey over gRPC)',
    }),
  },
};

/** POST /key?id=<id> — creates the id's key explicitly. */
export const createKeyRoute: FastifyPluginCallbackTypebox<{ keys: KeyService }> = (app, { keys }, done) => {
  app.post('/key', { schema, config: { keyAction: 'create' } }, async (request, reply) => {
    const served = await keys.createKey(request.query.id, keyOptions(request));
    recordServed(request, served);
    return reply.status(201).send(keyBody(request.query.id, served.key, reply));
  });
  done();
};
