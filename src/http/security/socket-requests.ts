import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConnectionSpentError } from '../errors.js';

/**
 * `max_requests_per_socket`: the last request a connection may carry is answered with
 * `Connection: close`; a request pipelined after it gets a 503 with RKMS's error body
 * (Node's own limit answers it with an empty one) and no work is done for it.
 */
export function requestsPerSocket(max: number) {
  return (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    if (max === 0) {
      done();
      return;
    }
    const count = request.connectionOrdinal;
    if (count >= max) void reply.header('connection', 'close');
    done(
      count > max
        ? new ConnectionSpentError(
            `this connection carried its ${max} requests (server.max_requests_per_socket); open a new one`,
          )
        : undefined,
    );
  };
}
