import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConnectionSpentError } from '../errors.js';

/**
 * `max_requests_per_socket`: the last request a connection may carry is answered with
 * `Connection: close`; a request pipelined after it gets a 503 with RKMS's error body
 * (Node's own limit answers it with an empty one) and no work is done for it.
 */
export function requestsPerSocket(max: number) {
  const counts = new WeakMap<Socket, number>();
  return (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    if (max === 0) {
      done();
      return;
    }
    const socket = request.raw.socket;
    const count = (counts.get(socket) ?? 0) + 1;
    counts.set(socket, count);
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
