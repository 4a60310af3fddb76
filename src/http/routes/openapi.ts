import type { FastifyPluginCallback } from 'fastify';

/** GET /openapi.json — the API's OpenAPI 3 document, generated from the route schemas. */
export const openApiRoute: FastifyPluginCallback = (app, _options, done) => {
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  done();
};
