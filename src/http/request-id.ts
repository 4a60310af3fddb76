import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** An incoming id is used only when it is short and made of characters safe in logs and headers. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The id given to each request, for answers written beside Fastify (a timeout's 408 on the
 * raw socket). Kept on the request itself: a WeakMap entry per request makes every
 * young-generation collection trace an ephemeron per request in flight.
 */
const GIVEN_ID = Symbol('rkms.requestId');
type WithId = Pick<IncomingMessage, 'headers'> & { [GIVEN_ID]?: string };

/**
 * The request id of every answer and log line: the caller's `x-request-id` when it is
 * safe to repeat, a new UUID otherwise, so a load balancer's id follows the request.
 */
export function requestIdOf(request: Pick<IncomingMessage, 'headers'>): string {
  const header = request.headers['x-request-id'];
  const id = typeof header === 'string' && SAFE_REQUEST_ID.test(header) ? header : randomUUID();
  (request as WithId)[GIVEN_ID] = id;
  return id;
}

/** The id `requestIdOf` gave this request, if it gave one. */
export function assignedRequestId(request: IncomingMessage): string | undefined {
  return (request as WithId)[GIVEN_ID];
}

/** Sends the request id back on every answer, errors included. */
export function echoRequestId(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  void reply.header('x-request-id', request.id);
  done();
}
