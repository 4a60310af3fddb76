import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { KeyService } from '../../keys/service.js';
import { IdQuery, KeyBody, commonErrors, deletedError, errorResponse, keyRouteSecurity } from '../schemas.js';
import { keyOptions, recordServed } from '../security/index.js';
import { encodedKeyBody, keyBody } from './key-body.js';

const schema = {
  summary: 'Get (or create) the data key of an id',
  description:
    'The data key for the id, created on the first call; every later call, on any replica, returns the same ' +
    'key. Never a new key for an id whose key is pending deletion (409) or was destroyed (410).',
  tags: ['keys'],
  security: keyRouteSecurity,
  querystring: IdQuery,
  response: {
    200: KeyBody,
    ...commonErrors,
    404: errorResponse(
      'KeyNotFound: the id has no key, and this client may not create one (no create action)',
      {
        error_type: 'KeyNotFound',
        error_message:
          'no key exists for id "tenant-42", and client billing may not create one (it lacks the create action)',
      },
    ),
    409: errorResponse('KeyPendingDeletion (restore it, or wait for its date) or KeyIntegrityError', {
      error_type: 'KeyPendingDeletion',
      error_message: 'the key for id "tenant-42" is pending deletion on 2026-12-01T12:00:00.000Z; …',
    }),
    410: deletedError,
  },
};

const FROM_CACHE = { source: 'cache', created: false } as const;

/** GET /key?id=<id> — the data key for the id, created on the first call. */
export const getKeyRoute: FastifyPluginCallbackTypebox<{ keys: KeyService }> = (app, { keys }, done) => {
  app.get('/key', { schema, config: { keyAction: 'get' } }, (request, reply) => {
    const { id } = request.query;
    // A cached key is answered at once, without a promise: most reads are these.
    const cached = keys.cachedKeyBase64(id);
    if (cached !== undefined) {
      recordServed(request, FROM_CACHE);
      return encodedKeyBody(id, cached, reply);
    }
    // Creating the key of a new id needs the `create` action too (keyOptions checks it).
    return keys.getKey(id, keyOptions(request)).then((served) => {
      recordServed(request, served);
      return keyBody(id, served.key, reply);
    });
  });
  done();
};
