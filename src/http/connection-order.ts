import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { RkmsInstance } from './instance.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's place among the requests read on its connection: 1 for the first. */
    connectionOrdinal: number;
  }
}

/** Requests read so far on a connection, kept on the socket itself (a WeakMap lookup per request costs more). */
const READ = Symbol('rkms.requestsRead');
type CountedSocket = Socket & { [READ]?: number };

/**
 * Numbers each request on its connection, in the order Node reads them (which is the order
 * it writes their answers in), for the limit of requests per connection and for closing a
 * connection after its last answer while draining.
 */
export function numberRequestsPerConnection(app: Pick<RkmsInstance, 'addHook' | 'decorateRequest'>): void {
  app.decorateRequest('connectionOrdinal', 0);
  app.addHook('onRequest', (request, _reply, done) => {
    const socket = request.raw.socket as CountedSocket;
    const read = (socket[READ] ?? 0) + 1;
    socket[READ] = read;
    request.connectionOrdinal = read;
    done();
  });
}

/** Whether no request was read on this request's connection after it (so far). */
export function isLastReadOnConnection(request: FastifyRequest): boolean {
  return request.connectionOrdinal === (request.raw.socket as CountedSocket)[READ];
}
