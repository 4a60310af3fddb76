import type { FastifyPluginCallback } from 'fastify';
import { requestIdHeader } from '../schemas.js';

const schema = {
  summary: 'This OpenAPI 3 document',
  description: 'Generated from the route schemas: every route this server answers, with its answers.',
  tags: ['operations'],
  response: {
    200: {
      type: 'object',
      additionalProperties: true,
      description: 'The OpenAPI 3.0 document',
      headers: requestIdHeader,
    },
  },
};

/** GET /openapi.json — the API's OpenAPI 3 document, generated from the route schemas. */
export const openApiRoute: FastifyPluginCallback = (app, _options, done) => {
  app.get('/openapi.json', { schema }, () => app.swagger());
  done();
};
