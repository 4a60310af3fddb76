import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** An incoming id is used only when it is short and made of characters safe in logs and headers. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The id given to each request, for answers written beside Fastify (a timeout's 408 on the raw socket). */
const given = new WeakMap<Pick<IncomingMessage, 'headers'>, string>();

/**
 * The request id of every answer and log line: the caller's `x-request-id` when it is
 * safe to repeat, a new UUID otherwise, so a load balancer's id follows the request.
 */
export function requestIdOf(request: Pick<IncomingMessage, 'headers'>): string {
  const header = request.headers['x-request-id'];
  const id = typeof header === 'string' && SAFE_REQUEST_ID.test(header) ? header : randomUUID();
  given.set(request, id);
  return id;
}

/** The id `requestIdOf` gave this request, if it gave one. */
export function assignedRequestId(request: IncomingMessage): string | undefined {
  return given.get(request);
}

/** Sends the request id back on every answer, errors included. */
export function echoRequestId(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  void reply.header('x-request-id', request.id);
  done();
}
