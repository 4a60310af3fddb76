import {
  LogController,
  type FastifyReply,
  type FastifyRequest,
  type onSendHookHandler,
  type RouteOptions,
} from 'fastify';
import pino, { type Bindings, type ChildLoggerOptions, type Logger } from 'pino';
import { LineOutput } from '../config/line-output.js';
import type { Metrics } from '../metrics/metrics.js';
import { jsonText } from '../shared/json-text.js';
import type { RkmsInstance } from './instance.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request arrived. */
    arrivedAt: number;
  }
}

/**
 * One log line and the metrics of every request, as its answer leaves: the request id,
 * method, URL, status and time — instead of Fastify's two lines (incoming, completed) with
 * the whole request and reply serialized.
 *
 * Fastify runs without a logger of its own (its logger would make it listen for every
 * response's end, which costs a cached read more than its own work): each request gets a
 * child of the service's logger, made only if something logs through it, and the line and
 * the metrics are written by an onSend hook that runs after every other one, so they see
 * the status that really leaves (an answer withheld for its audit line included).
 */
export function installRequestLog(app: RkmsInstance, logger: Logger, metrics: Metrics): void {
  // The line holds only the fields set here, none of which can carry key material, so it
  // skips the redaction pass every other line gets, and pino's serialization too: written
  // field by field, as pino writes them, on the same destination (both cost more than the
  // rest of a cached read).
  const destination = destinationOf(logger);
  // On the service's own output the line may wait a few milliseconds for others to share
  // its system call; nothing waits for it, and an error line still goes out in its turn.
  const writeLine =
    destination instanceof LineOutput
      ? (line: string) => {
          destination.writeSoon(line);
        }
      : (line: string) => {
          destination.write(line);
        };
  const writes = logger.isLevelEnabled('info');
  const bindings = rootBindings(destination);
  const complete = (route: string, request: FastifyRequest, reply: FastifyReply): void => {
    const seconds = (performance.now() - request.arrivedAt) / 1000;
    const status = reply.statusCode;
    // The route's pattern, never its URL: an id never becomes a label.
    metrics.recordHttp(route, request.method, status, seconds);
    if (writes) writeLine(completionLine(bindings, request, status, Math.round(seconds * 10_000) / 10));
  };

  app.decorateRequest('arrivedAt', 0);
  app.addHook('onRequest', (request, _reply, done) => {
    request.arrivedAt = performance.now();
    done();
  });
  // Each route's own last onSend hook: route hooks run after every instance hook.
  app.addHook('onRoute', (route: RouteOptions) => {
    const last: onSendHookHandler = (request, reply, payload, done) => {
      complete(route.url, request, reply);
      done(null, payload);
    };
    route.onSend = [...[route.onSend ?? []].flat(), last];
  });
  // Answers no route matched (404).
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.is404) complete('unmatched', request, reply);
    done(null, payload);
  });
}

function destinationOf(logger: Logger): pino.DestinationStream {
  const stream = (logger as unknown as Record<symbol, pino.DestinationStream | undefined>)[
    pino.symbols.streamSym
  ];
  if (!stream) throw new Error('the service logger has no destination stream');
  return stream;
}

/** What pino writes after a line's level and time: the process's bindings (pid, hostname). */
function rootBindings(destination: pino.DestinationStream): string {
  const root = pino({}, destination) as unknown as Record<symbol, string | undefined>;
  return root[pino.symbols.chindingsSym] ?? '';
}

/**
 * The line `pino().info({ requestId, method, url, status, ms }, 'request completed')`
 * writes, byte for byte (test/http/request-log.test.ts compares them).
 */
export function completionLine(
  bindings: string,
  request: Pick<FastifyRequest, 'id' | 'method' | 'url'>,
  status: number,
  ms: number,
): string {
  return (
    `{"level":30,"time":${String(Date.now())}${bindings},"requestId":${jsonText(request.id)}` +
    `,"method":${jsonText(request.method)},"url":${jsonText(request.url)},"status":${String(status)}` +
    `,"ms":${String(ms)},"msg":"request completed"}\n`
  );
}

/**
 * Fastify's own request lines (incoming, completed) are left out: installRequestLog writes
 * the one line per request. Request loggers bind the request id as `requestId`.
 */
export class RequestLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'requestId' });
  }

  override incomingRequest(): void {
    // One line per request, when its answer leaves.
  }

  override requestCompleted(): void {
    // Written by installRequestLog's hook.
  }
}

/** Fastify's childLoggerFactory: each request's logger, a child of the service's made on first use. */
export function requestLoggerFactory(logger: Logger) {
  return (_fastifyLogger: unknown, bindings: Bindings, options: ChildLoggerOptions): Logger =>
    new LazyChild(logger, bindings, options) as unknown as Logger;
}

type LogArgs = Parameters<Logger['info']>;
type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger (`request.log`), made only when something logs through it at an
 * enabled level: most requests log nothing but their completion line, and a child logger
 * per request would cost them more than their own work.
 */
class LazyChild {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(level: string) {
    this.logger().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level);
  }

  fatal(...args: LogArgs): void {
    this.write('fatal', args);
  }

  error(...args: LogArgs): void {
    this.write('error', args);
  }

  warn(...args: LogArgs): void {
    this.write('warn', args);
  }

  info(...args: LogArgs): void {
    this.write('info', args);
  }

  debug(...args: LogArgs): void {
    this.write('debug', args);
  }

  trace(...args: LogArgs): void {
    this.write('trace', args);
  }

  silent(): void {
    // Level silent writes nothing.
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.logger().child(bindings, options);
  }

  private write(level: LogLevel, args: LogArgs): void {
    if (this.made || this.parent.isLevelEnabled(level)) this.logger()[level](...args);
  }

  private logger(): Logger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }
}
