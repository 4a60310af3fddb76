import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { CLIENT_ERROR_TYPES, errorBody } from '../errors.js';
import { assignedRequestId } from '../request-id.js';
import { markCutByTimeout, REQUEST_TIMEOUT_MESSAGE } from './timed-out.js';

const MESSAGES: Record<number, string> = {
  400: 'the request is not valid HTTP/1.1',
  408: REQUEST_TIMEOUT_MESSAGE,
  431: 'the request headers are too large',
};

/**
 * Node's `clientError`: a request that never became one (malformed, too large headers, too
 * slow). Answered with RKMS's error body when nothing was sent on the socket yet; the
 * connection is closed either way. A request whose headers had arrived keeps its id.
 */
export function clientErrorHandler(logger: Logger) {
  return (error: NodeJS.ErrnoException, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const status =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    // Node keeps the response in progress on the socket; once its head is out, another would corrupt the stream.
    const inProgress = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    const request = inProgress?.req;
    if (request && status === 408) markCutByTimeout(request);
    const requestId = (request && assignedRequestId(request)) ?? randomUUID();
    logger.info({ requestId, code: error.code, status, remoteAddress: socket.remoteAddress }, 'client error');
    if (socket.writable && !inProgress?.headersSent) {
      const text = JSON.stringify(
        errorBody(CLIENT_ERROR_TYPES[status] ?? 'BadRequest', MESSAGES[status] ?? 'bad request', requestId),
      );
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
          'Content-Type: application/json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(text)}\r\n` +
          `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${text}`,
      );
    }
    socket.destroy(error);
  };
}

/** An `Expect` header other than 100-continue: Node's own 417 has no body. */
export function expectationFailed(request: IncomingMessage, response: ServerResponse): void {
  const requestId = randomUUID();
  const text = JSON.stringify(
    errorBody('ExpectationFailed', 'RKMS supports no Expect header but 100-continue', requestId),
  );
  response.writeHead(417, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-request-id': requestId,
  });
  response.end(text);
  request.resume();
}
