import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Credentials } from './clients.js';

/**
 * What a connection says about its client, for HTTP's requests and gRPC's calls alike:
 * the client certificate when TLS verified it against `[server.tls] ca` (no other one
 * counts), or, for one it did not verify, TLS's reason, so that the refusal can say why.
 */
export function peerCertificateOf(
  socket: Socket | undefined,
): Pick<Credentials, 'certificate' | 'rejectedCertificate'> {
  if (!(socket instanceof TLSSocket)) return {};
  const certificate = socket.getPeerCertificate();
  if (Object.keys(certificate).length === 0) return {};
  if (socket.authorized) return { certificate };
  return { rejectedCertificate: String(socket.authorizationError) };
}
