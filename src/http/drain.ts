import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { isLastReadOnConnection } from './connection-order.js';
import type { RkmsInstance } from './instance.js';
import type { Lifecycle } from './lifecycle.js';

/** How long a draining replica keeps answering everything before it stops accepting. */
const QUIET_MS = 1_000;
/** How often connections that went idle are closed while draining. */
const IDLE_SWEEP_MS = 50;

/**
 * While draining, the last answer a connection owes carries `Connection: close`: the client
 * then sends its next request elsewhere instead of reusing a connection that is about to
 * close (closing one it is writing to resets that request). "Last" is by the order the
 * requests were read (numberRequestsPerConnection), which is the order Node writes their
 * answers in: an answer with more requests pipelined behind it leaves the connection open
 * for theirs.
 */
export function closeConnectionsWhileDraining(
  app: Pick<RkmsInstance, 'addHook'>,
  lifecycle: Pick<Lifecycle, 'phase'>,
): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    if (lifecycle.phase === 'draining' && isLastReadOnConnection(request)) {
      void reply.header('connection', 'close');
    }
    done(null, payload);
  });
}

/**
 * Stops a replica without losing a request. Readiness turns 503 at once, so the load
 * balancer sends no more, and every connection is closed after its last answer (see
 * closeConnectionsWhileDraining). For a moment everything is still answered (a request
 * sent just before the signal may still sit in a socket's buffer, unread). Then the server
 * stops accepting and closes each connection as soon as it is idle: requests in flight and
 * requests already queued on a connection (pipelined) are answered first. Whatever is
 * left after `timeoutMs` is closed.
 */
export async function drain(app: FastifyInstance, lifecycle: Lifecycle, timeoutMs: number): Promise<void> {
  lifecycle.draining();
  const server = app.server;
  if (server.listening) await sleep(Math.min(QUIET_MS, timeoutMs / 4));
  const idleSweep = setInterval(() => {
    server.closeIdleConnections();
  }, IDLE_SWEEP_MS);
  const forced = setTimeout(() => {
    server.closeAllConnections();
  }, timeoutMs);
  idleSweep.unref();
  forced.unref();
  try {
    await app.close();
  } finally {
    clearInterval(idleSweep);
    clearTimeout(forced);
  }
}
