import type { SwaggerOptions } from '@fastify/swagger';

type OpenApi = NonNullable<Extract<SwaggerOptions, { openapi?: unknown }>['openapi']>;

/** The parts of the OpenAPI document that are not in the route schemas. */
export function openApiDocument(apiVersion: string): OpenApi {
  return {
    openapi: '3.0.3',
    info: {
      title: 'RKMS',
      version: apiVersion,
      description:
        'A reliable key management service: the data key of an id, protected by AWS KMS in several regions and ' +
        'stored in DynamoDB. Every key route also answers under /api/' +
        apiVersion +
        ' (the original RKMS path). Errors have the body {error_type, error_message, request_id}; 429s and 503s ' +
        'carry Retry-After. Every answer carries an x-request-id header, which is in every log line about the ' +
        'request.',
      license: { name: 'MIT' },
    },
    tags: [
      { name: 'keys', description: 'Data keys by id' },
      { name: 'health', description: 'Liveness and readiness' },
      { name: 'operations', description: 'Metrics and this document' },
    ],
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'The token of a client declared in [[auth.clients]] (rkms token prints one and its SHA-256). A ' +
            'client may present a certificate instead (mutual TLS, [server.tls] ca). A server that declares ' +
            'no clients (loopback, or [auth] allow_anonymous = true) needs no credentials.',
        },
      },
    },
  };
}
