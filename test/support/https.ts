import { request, type Agent } from 'node:https';
import { TLSSocket } from 'node:tls';
import { recordKey } from './audit.js';
import type { Reply } from './http.js';

export interface TlsCallOptions {
  ca: string;
  cert?: string;
  key?: string;
  headers?: Record<string, string>;
  agent?: Agent;
}

/** One HTTPS request (fetch cannot present a client certificate); keys handed out are recorded for the log audit. */
export function httpsCall(
  base: string,
  method: string,
  path: string,
  options: TlsCallOptions,
): Promise<Reply & { serverCertSerial: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        method,
        ca: options.ca,
        ...(options.cert ? { cert: options.cert, key: options.key } : {}),
        headers: options.headers ?? {},
        ...(options.agent ? { agent: options.agent } : { agent: false }),
      },
      (res) => {
        const serverCertSerial =
          res.socket instanceof TLSSocket ? res.socket.getPeerCertificate().serialNumber : '';
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
          if (typeof body.key === 'string') recordKey(body.key);
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (typeof value === 'string') headers.set(name, value);
          }
          resolve({ status: res.statusCode ?? 0, headers, body, serverCertSerial });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
