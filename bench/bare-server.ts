/**
 * The baseline every scenario is compared with: a bare Fastify route that answers
 * `GET /key?id=<id>` with a body of the same shape and size as RKMS's (`{id, key}`, a
 * 32-byte key in base64), validated and serialized from schemas as RKMS's routes are, with
 * no logging, no cache, no store and no KMS. Prints its address, then serves until SIGTERM.
 */
import Fastify from 'fastify';

const KEY = Buffer.alloc(32, 7).toString('base64');

const app = Fastify({ logger: false });
app.get(
  '/key',
  {
    schema: {
      querystring: {
        type: 'object',
        properties: { id: { type: 'string', minLength: 1, maxLength: 512 } },
        required: ['id'],
      },
      response: {
        200: { type: 'object', properties: { id: { type: 'string' }, key: { type: 'string' } } },
      },
    },
  },
  (request) => ({ id: (request.query as { id: string }).id, key: KEY }),
);
const stop = () => {
  void app.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`bare Fastify listening on ${url}\n`);
