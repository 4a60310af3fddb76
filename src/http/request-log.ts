import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';

/**
 * One log line per request, when it completes, with what an operator looks for — the
 * request id, method, URL, status and time — instead of Fastify's two lines (incoming,
 * completed) with the whole request and reply serialized.
 */
export class RequestLog extends LogController {
  /**
   * The completion line holds only the fields set below, none of which can carry key
   * material, so it is written by a logger on the same destination without the redaction
   * pass every other line gets (that pass costs more than the rest of a cached read).
   */
  private readonly lines: Logger;

  constructor(logger: Logger) {
    super({ requestIdLogLabel: 'requestId' });
    const destination = (logger as unknown as Record<symbol, pino.DestinationStream>)[pino.symbols.streamSym];
    this.lines = pino({ level: logger.level }, destination);
  }

  override incomingRequest(): void {
    // The completion line says it all.
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = {
      requestId: request.id,
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else this.lines.info(line, 'request completed');
  }
}
