import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { hostAllowed, type HostPolicy } from '../shared/hosts.js';

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/** Loopback names and addresses only: the embedded store listens on 127.0.0.1 and nothing else names it. */
const LOOPBACK: HostPolicy = { loopback: true, allowed: [] };

/**
 * DNS-rebinding protection for the embedded store (dynalite), which answers any Host: a
 * web page on a name its attacker points at 127.0.0.1 could otherwise list, read or
 * delete the key table through the visitor's browser. A foreign Host gets 421 in the
 * DynamoDB protocol's error shape before dynalite sees the request; the AWS SDK sends
 * the endpoint's own name, 127.0.0.1, and is unaffected.
 */
export function answerLoopbackNamesOnly(server: Server): void {
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!hostAllowed(request.headers.host, LOOPBACK)) {
      refuse(request, response);
      return;
    }
    for (const listener of listeners) listener.call(server, request, response);
  });
}

function refuse(request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify({
    __type: 'com.amazonaws.dynamodb.v20120810#MisdirectedRequest',
    message: `the Host header ${JSON.stringify(request.headers.host ?? '')} is not a name the embedded store answers to; it answers loopback names only`,
  });
  response.writeHead(421, {
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  response.end(body);
  // The body, if any, is not read: drain it so the socket can close cleanly.
  request.resume();
}
