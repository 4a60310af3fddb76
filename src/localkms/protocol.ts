import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KmsError } from './errors.js';

/**
 * The AWS JSON 1.1 protocol as KMS speaks it: `POST /` with
 * `X-Amz-Target: TrentService.<Operation>`, JSON bodies with blobs in base64,
 * and errors as `{"__type": ..., "message": ...}` plus `x-amzn-ErrorType`.
 */

export const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'TrentService.';

/** Large enough for any KMS request (a 6144-byte ciphertext is 8 KiB of base64), small enough to refuse floods. */
export const MAX_BODY_BYTES = 256 * 1024;

export class BodyTooLargeError extends KmsError {
  constructor(limit: number) {
    super('ValidationException', `The request body is larger than ${limit} bytes.`);
  }
}

/** The operation named by `X-Amz-Target`, or a KmsError saying what is wrong with the header. */
export function operationOf(target: string | undefined): string {
  if (!target) {
    throw new KmsError(
      'UnknownOperationException',
      'Missing X-Amz-Target header: KMS requests are POST / with X-Amz-Target: TrentService.<Operation>',
    );
  }
  if (!target.startsWith(TARGET_PREFIX) || target.length === TARGET_PREFIX.length) {
    throw new KmsError(
      'UnknownOperationException',
      `Unknown operation ${target}: expected X-Amz-Target: TrentService.<Operation>`,
    );
  }
  return target.slice(TARGET_PREFIX.length);
}

/** Reads the whole body; rejects with BodyTooLargeError past `limit` bytes, without buffering the rest. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLargeError(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      resolve(Buffer.concat(chunks));
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before sending the whole body'));
    });
  });
}

/** Parses a request body; an empty body is `{}`, as botocore sends for calls without members. */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new KmsError('SerializationException', 'The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new KmsError('SerializationException', 'The request body must be a JSON object.');
  }
  return withoutNulls(parsed as Record<string, unknown>);
}

export function sendResult(res: ServerResponse, result: object): void {
  send(res, 200, JSON.stringify(result), {});
}

export function sendError(res: ServerResponse, error: KmsError, closeConnection = false): void {
  const headers: Record<string, string> = { 'x-amzn-ErrorType': error.type };
  if (closeConnection) headers.Connection = 'close';
  send(res, error.status, JSON.stringify({ __type: error.type, message: error.message }), headers);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
    ...headers,
  });
  res.end(body);
}

/** SDKs never send `null`, but hand-written requests do; AWS treats a null member as absent. */
function withoutNulls(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null));
}
