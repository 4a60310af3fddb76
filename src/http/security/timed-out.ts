import type { IncomingMessage } from 'node:http';

/** Requests whose body was still arriving when receive_timeout_ms cut them. */
const cut = new WeakSet<IncomingMessage>();

export const REQUEST_TIMEOUT_MESSAGE =
  'the request did not arrive in time (server.headers_timeout_ms for the headers, server.receive_timeout_ms for the whole request)';

/** Node's clientError handler tells which request its 408 answered (src/http/security/client-errors.ts). */
export function markCutByTimeout(request: IncomingMessage): void {
  cut.add(request);
}

/**
 * Whether receive_timeout_ms cut this request while its body arrived. Fastify then sees the
 * body abort; its answer (which never leaves: the 408 did) and the audit line say 408 too.
 */
export function cutByTimeout(request: IncomingMessage): boolean {
  return cut.has(request);
}
