import type { FastifyReply, FastifyRequest } from 'fastify';
import { BadRequestError, HostNotAllowedError } from '../errors.js';
import { hostAllowed, type HostPolicy } from '../../shared/hosts.js';

/**
 * Refuses a Host this server does not answer to (DNS rebinding: a page on an attacker's
 * name that resolves to 127.0.0.1), before anything else runs. Without a policy (not on
 * loopback, no allowed_hosts) every name passes; HTTP/1.1 still needs a Host.
 */
export function hostCheck(policy: HostPolicy | undefined) {
  const allowed = policy && remembered((host: string | undefined) => hostAllowed(host, policy));
  return (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    const host = request.headers.host;
    if (host === undefined && request.raw.httpVersion !== '1.0') {
      done(new BadRequestError('the Host header is required'));
      return;
    }
    if (policy && allowed && !allowed(host)) {
      done(
        new HostNotAllowedError(
          policy.loopback
            ? 'this RKMS listens on loopback and answers to loopback names only (localhost, 127.0.0.1, [::1]); add the name to server.allowed_hosts'
            : 'the Host header names a host that is not in server.allowed_hosts',
        ),
      );
      return;
    }
    done();
  };
}

/** At most this many Host values are remembered; past it the memory starts over. */
const REMEMBERED_HOSTS = 256;

/**
 * A decision per Host value, made once: clients send the same few names on every request,
 * and parsing one costs more than the rest of the check.
 */
function remembered(decide: (host: string | undefined) => boolean): (host: string | undefined) => boolean {
  const decisions = new Map<string | undefined, boolean>();
  return (host) => {
    let decision = decisions.get(host);
    if (decision === undefined) {
      decision = decide(host);
      if (decisions.size >= REMEMBERED_HOSTS) decisions.clear();
      decisions.set(host, decision);
    }
    return decision;
  };
}
