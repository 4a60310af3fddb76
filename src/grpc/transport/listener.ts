import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { ConnectionInjector } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { TlsCredentials } from '../../http/security/tls.js';
import type { GrpcLimits } from './limits.js';

/** A connection on the gRPC port, until it closes. */
interface Connection {
  socket: Socket;
  /** Once its handshake is done, under TLS. */
  tls?: TLSSocket;
  /** Runs until the connection's first call arrives. */
  firstCall: NodeJS.Timeout | undefined;
}

/** What the gRPC service asks of the connection a call came on, by the call's peer (`address:port`). */
export interface PeerSockets {
  /** The TLS socket (for the client certificate), or the plain one. */
  socketOf(peer: string): Socket | undefined;
}

/**
 * The gRPC port. RKMS accepts the connections, and terminates TLS, itself, then hands
 * each to grpc-js (its ConnectionInjector). grpc-js bounds what it knows of: idle and
 * aged connections, pings, streams per connection. This bounds the rest: how many
 * connections there are (`max_connections`), and how long one may take to begin — its
 * TLS handshake and its first call must arrive within `headers_timeout_ms`, so a
 * connection that sends nothing, or only the HTTP/2 preface, is cut as on HTTP. TLS is
 * HTTP's: the same certificate and client CAs, reloaded with them.
 */
export class GrpcListener implements PeerSockets {
  private readonly server: NetServer;
  /** By the peer name grpc-js gives a call: `remoteAddress:remotePort`. */
  private readonly connections = new Map<string, Connection>();

  constructor(
    private readonly injector: ConnectionInjector,
    private readonly limits: GrpcLimits,
    tls: TlsCredentials | undefined,
    private readonly logger: Logger,
  ) {
    if (tls) {
      const secure = createTlsServer({
        ...tls.serverOptions(),
        ALPNProtocols: ['h2'],
        handshakeTimeout: limits.firstCallTimeoutMs,
      });
      tls.attach(secure);
      secure.on('secureConnection', (socket) => {
        this.secured(socket);
      });
      // A failed handshake (a plaintext client, an expired certificate) is the client's problem.
      secure.on('tlsClientError', (err, socket) => {
        this.logger.debug({ err, remoteAddress: socket.remoteAddress }, 'gRPC TLS handshake failed');
      });
      this.server = secure;
    } else {
      this.server = createNetServer((socket) => {
        this.injector.injectConnection(socket);
      });
    }
    this.server.maxConnections = limits.maxConnections;
    // Added first on the TLS server too: every connection is counted and timed from its first byte.
    this.server.prependListener('connection', (socket: Socket) => {
      this.track(socket);
    });
  }

  /** Binds; resolves with the address it listens on, `host:port`. */
  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        const bound = typeof address === 'object' && address ? address.port : port;
        resolve(`${host.includes(':') ? `[${host}]` : host}:${bound}`);
      });
    });
  }

  /** A call arrived on this peer's connection: it has begun, and may stay while grpc-js lets it. */
  callStarted(peer: string): void {
    const connection = this.connections.get(peer);
    if (connection?.firstCall === undefined) return;
    clearTimeout(connection.firstCall);
    connection.firstCall = undefined;
  }

  socketOf(peer: string): Socket | undefined {
    const connection = this.connections.get(peer);
    return connection?.tls ?? connection?.socket;
  }

  /** No new connections; those open are left to grpc-js's shutdown. */
  stopAccepting(): void {
    if (this.server.listening) this.server.close();
  }

  /** After grpc-js's shutdown: whatever is still open (a TLS handshake under way) is closed. */
  destroyAll(): void {
    for (const { socket } of this.connections.values()) socket.destroy();
  }

  private track(socket: Socket): void {
    const peer = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`;
    const connection: Connection = {
      socket,
      firstCall: setTimeout(() => {
        this.logger.debug(
          { remoteAddress: socket.remoteAddress, timeoutMs: this.limits.firstCallTimeoutMs },
          'gRPC connection closed: no call within server.headers_timeout_ms',
        );
        socket.destroy();
      }, this.limits.firstCallTimeoutMs).unref(),
    };
    this.connections.set(peer, connection);
    socket.once('close', () => {
      clearTimeout(connection.firstCall);
      if (this.connections.get(peer) === connection) this.connections.delete(peer);
    });
  }

  private secured(socket: TLSSocket): void {
    // gRPC is HTTP/2 only: a client that did not ask for h2 would only wait for the first-call timeout.
    if (socket.alpnProtocol !== 'h2') {
      this.logger.debug({ remoteAddress: socket.remoteAddress }, 'gRPC connection without ALPN h2: closed');
      socket.destroy();
      return;
    }
    const connection = this.connections.get(`${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`);
    if (connection) connection.tls = socket;
    this.injector.injectConnection(socket);
  }
}
