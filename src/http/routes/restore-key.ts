import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { KeyService } from '../../keys/service.js';
import {
  IdQuery,
  KeyStatusBody,
  bodyErrors,
  commonErrors,
  deletedError,
  integrityError,
  keyRouteSecurity,
  notFoundError,
} from '../schemas.js';
import { keyStatusBody } from './key-status.js';

const schema = {
  summary: 'Cancel a pending deletion',
  description: 'The same key is served again. A key that is not pending answers Enabled as well.',
  tags: ['keys'],
  security: keyRouteSecurity,
  querystring: IdQuery,
  response: {
    200: KeyStatusBody('The key is enabled', { id: 'tenant-42', state: 'Enabled' }),
    ...commonErrors,
    ...bodyErrors,
    404: notFoundError,
    409: integrityError,
    410: deletedError,
  },
};

/** POST /key/restore?id=<id> — cancels a pending deletion; the same key is served again. */
export const restoreKeyRoute: FastifyPluginCallbackTypebox<{ keys: KeyService }> = (app, { keys }, done) => {
  app.post('/key/restore', { schema, config: { keyAction: 'restore' } }, async (request) =>
    keyStatusBody(await keys.restore(request.query.id, { log: request.log })),
  );
  done();
};
