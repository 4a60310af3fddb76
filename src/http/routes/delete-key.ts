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
  summary: 'Schedule the deletion of a key',
  description:
    'The key is destroyed keys.deletion_window_days (at least 1) after the request; until then GET answers 409 ' +
    'and POST /key/restore cancels. Deleting a key that is already pending changes nothing.',
  tags: ['keys'],
  security: keyRouteSecurity,
  querystring: IdQuery,
  response: {
    200: KeyStatusBody('The key is pending deletion', {
      id: 'tenant-42',
      state: 'PendingDeletion',
      deletion_date: '2026-12-01T12:00:00.000Z',
    }),
    ...commonErrors,
    ...bodyErrors,
    404: notFoundError,
    409: integrityError,
    410: deletedError,
  },
};

/** DELETE /key?id=<id> — schedules the key's destruction after the deletion window. Idempotent. */
export const deleteKeyRoute: FastifyPluginCallbackTypebox<{ keys: KeyService }> = (app, { keys }, done) => {
  app.delete('/key', { schema, config: { keyAction: 'delete' } }, async (request) =>
    keyStatusBody(await keys.scheduleDeletion(request.query.id, { log: request.log })),
  );
  done();
};
