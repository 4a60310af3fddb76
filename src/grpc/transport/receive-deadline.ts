import {
  Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type StatusObject,
} from '@grpc/grpc-js';
import type { Http2Stream } from 'node:http2';

/** How a call ends: its code, message and trailers. */
export type EndStatus = Pick<StatusObject, 'code' | 'details'> & { metadata?: Metadata };

export interface ReceiveDeadline {
  /** `[server] receive_timeout_ms`. */
  timeoutMs: number;
  /** Told of every call as it arrives, by its peer (`address:port`). */
  callStarted(peer: string): void;
  /** The status a call whose request did not arrive in time ends with (for a key call, after its audit line). */
  timedOut(path: string, metadata: Metadata, peer: string): Promise<EndStatus>;
}

/**
 * A call's request must arrive within `receive_timeout_ms` of its headers, as an HTTP
 * request must: a unary call's message and end, a streaming call's first message. grpc-js
 * waits for ever (a handler runs only once the request is complete); past the bound the
 * call ends with the status `timedOut` gives, and its stream is reset, so that the
 * connection is left idle and grpc-js closes it after `keep_alive_timeout_ms`.
 */
export function receiveDeadline(deadline: ReceiveDeadline): ServerInterceptor {
  return (method, call) => {
    let metadata = new Metadata();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const arrived = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    const cut = async () => {
      timedOut = true;
      const status = await deadline.timedOut(method.path, metadata, call.getPeer());
      call.sendStatus(status);
      streamOf(call)?.close();
    };
    return new ServerInterceptingCall(call, {
      start: (next) => {
        deadline.callStarted(call.getPeer());
        timer = setTimeout(() => void cut(), deadline.timeoutMs);
        next({
          onReceiveMetadata: (received, nextMetadata) => {
            metadata = received;
            nextMetadata(received);
          },
          onReceiveMessage: (message: unknown, nextMessage) => {
            if (timedOut) return;
            if (method.requestStream) arrived();
            nextMessage(message);
          },
          onReceiveHalfClose: (nextHalfClose) => {
            if (timedOut) return;
            arrived();
            nextHalfClose();
          },
          onCancel: arrived,
        });
      },
    });
  };
}

/**
 * The HTTP/2 stream under grpc-js's call, to reset it: once the status is sent, a client
 * that never ends its side would otherwise keep the stream (and the connection) open.
 * grpc-js does not expose it; without it (another grpc-js), the status is still sent.
 */
function streamOf(call: ServerInterceptingCallInterface): Http2Stream | undefined {
  const stream = (call as unknown as { stream?: unknown }).stream;
  return typeof stream === 'object' && stream !== null && 'close' in stream
    ? (stream as Http2Stream)
    : undefined;
}
