import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Step = (req: IncomingMessage, res: ServerResponse) => void;

export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
}

export interface ScriptedReplica {
  url: string;
  /** Requests received, in order. */
  seen: SeenRequest[];
  /** Answers the next requests with these steps, in order; past the end, a 500 says the script ran out. */
  script(...steps: Step[]): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server that answers as the test scripts it: what an RKMS replica answers
 * when its dependencies fail, which a real replica cannot be made to do on cue.
 */
export async function startScriptedReplica(): Promise<ScriptedReplica> {
  const steps: Step[] = [];
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    const step = steps.shift() ?? json(500, { error_type: 'InternalError', error_message: 'script ran out' });
    step(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    script: (...more) => steps.push(...more),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A JSON answer. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Step {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req-1', ...headers });
    res.end(JSON.stringify(body));
  };
}

/** An RKMS error answer. */
export function rkmsError(status: number, errorType: string, headers: Record<string, string> = {}): Step {
  return json(status, { error_type: errorType, error_message: `scripted ${errorType}` }, headers);
}

/** The connection is dropped without an answer, as by a replica that crashed mid-request. */
export const hangUp: Step = (req) => {
  req.socket.destroy();
};

/** No answer at all, until the client gives up (the server's close ends it). */
export const silence: Step = () => undefined;
