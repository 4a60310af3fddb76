import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Lifecycle } from './lifecycle.js';

/** How long a draining replica keeps answering everything before it stops accepting. */
const QUIET_MS = 1_000;
/** How often connections that went idle are closed while draining. */
const IDLE_SWEEP_MS = 50;

/**
 * Stops a replica without losing a request. Readiness turns 503 at once, so the load
 * balancer sends no more; for a moment everything is still answered (a request sent just
 * before the signal may still sit in a socket's buffer, unread). Then the server stops
 * accepting and closes each connection as soon as it is idle: requests in flight and
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
