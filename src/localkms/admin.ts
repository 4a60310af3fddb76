import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallCounter } from './counters.js';
import { FaultError, type FaultTable, type RegionFaults } from './faults.js';
import { readBody } from './protocol.js';

/**
 * The admin endpoint, for loopback clients only:
 *
 *   GET    /admin/counters          calls by region and operation
 *   DELETE /admin/counters          resets the counters
 *   GET    /admin/faults            faults in force, by region
 *   PUT    /admin/faults/<region>   replaces a region's faults (JSON body, see RegionFaults)
 *   DELETE /admin/faults/<region>   clears a region's faults
 *   DELETE /admin/faults            clears every region's faults
 */

export const ADMIN_PREFIX = '/admin';
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

export interface AdminDeps {
  readonly faults: FaultTable;
  readonly counter: CallCounter;
}

export function isAdminPath(url: string | undefined): boolean {
  const path = pathOf(url);
  return path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`);
}

export async function handleAdmin(req: IncomingMessage, res: ServerResponse, deps: AdminDeps): Promise<void> {
  if (!isLoopbackAddress(req.socket.remoteAddress)) {
    reply(res, 403, { error: 'the admin endpoint answers loopback clients only' });
    return;
  }
  const parts = pathOf(req.url)
    .split('/')
    .filter((part) => part !== '')
    .slice(1);
  const [resource, region, extra] = parts;
  const method = req.method ?? 'GET';
  if (extra !== undefined) {
    notFound(res);
    return;
  }
  if (resource === 'counters' && region === undefined) {
    counters(method, res, deps);
    return;
  }
  if (resource === 'faults') return faults(method, region, req, res, deps);
  notFound(res);
}

function counters(method: string, res: ServerResponse, deps: AdminDeps): void {
  if (method === 'GET') {
    reply(res, 200, deps.counter.snapshot());
    return;
  }
  if (method === 'DELETE') {
    deps.counter.reset();
    reply(res, 204);
    return;
  }
  methodNotAllowed(res, 'GET, DELETE');
}

async function faults(
  method: string,
  region: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  deps: AdminDeps,
): Promise<void> {
  try {
    if (region === undefined) {
      if (method === 'GET') {
        reply(res, 200, deps.faults.get());
        return;
      }
      if (method === 'DELETE') {
        deps.faults.clear();
        reply(res, 204);
        return;
      }
      methodNotAllowed(res, 'GET, DELETE');
      return;
    }
    if (method === 'PUT') {
      deps.faults.set(region, await faultsFromBody(req));
      reply(res, 200, deps.faults.get()[region] ?? {});
      return;
    }
    if (method === 'DELETE') {
      deps.faults.clear(region);
      reply(res, 204);
      return;
    }
    if (method === 'GET') {
      reply(res, 200, deps.faults.get()[region] ?? {});
      return;
    }
    methodNotAllowed(res, 'GET, PUT, DELETE');
    return;
  } catch (error) {
    if (error instanceof FaultError) {
      reply(res, 400, { error: error.message });
      return;
    }
    throw error;
  }
}

/** The schema check happens in FaultTable.set, so the endpoint and the in-process API accept the same bodies. */
async function faultsFromBody(req: IncomingMessage): Promise<RegionFaults> {
  let body: Buffer;
  try {
    body = await readBody(req, MAX_ADMIN_BODY_BYTES);
  } catch {
    throw new FaultError(`the body must be JSON of at most ${MAX_ADMIN_BODY_BYTES} bytes`);
  }
  try {
    return JSON.parse(body.length === 0 ? '{}' : body.toString('utf8')) as RegionFaults;
  } catch {
    throw new FaultError('the body is not valid JSON; expected e.g. {"down":{}} or {"latency":{"ms":500}}');
  }
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?', 1)[0] ?? '/';
}

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
    .end(text);
}

function notFound(res: ServerResponse): void {
  reply(res, 404, {
    error:
      'unknown admin route; see GET/DELETE /admin/counters, GET/DELETE /admin/faults, ' +
      'PUT/GET/DELETE /admin/faults/<region>',
  });
}

function methodNotAllowed(res: ServerResponse, allowed: string): void {
  res.setHeader('Allow', allowed);
  reply(res, 405, { error: `method not allowed; use ${allowed}` });
}
