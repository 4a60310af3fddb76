import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostAllowed, type HostPolicy } from '../shared/hosts.js';
import { CONTENT_TYPE } from './protocol.js';

/**
 * DNS-rebinding protection for the KMS and admin endpoints: on loopback (the default) only
 * loopback names are answered, plus `allowedHosts`. A web page cannot make a browser send
 * them, so it cannot change faults or ask for data keys through a name it points here.
 * Answers 421 and returns true when the Host is refused.
 */
export function refuseForeignHost(
  req: IncomingMessage,
  res: ServerResponse,
  policy: HostPolicy | undefined,
  admin: boolean,
): boolean {
  if (policy === undefined || hostAllowed(req.headers.host, policy)) return false;
  const message =
    `the Host header ${JSON.stringify(req.headers.host ?? '')} is not a name this ` +
    `local KMS answers to; it answers loopback names (and --allowed-host)`;
  const body = JSON.stringify(admin ? { error: message } : { __type: 'MisdirectedRequest', message });
  res.writeHead(421, {
    'Content-Type': admin ? 'application/json' : CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(body);
  return true;
}
