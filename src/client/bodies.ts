import type { Exchange } from './call.js';
import { RkmsError } from './errors.js';

/** The state of a key after a delete or a restore. */
export interface KeyStatus {
  id: string;
  state: 'Enabled' | 'PendingDeletion';
  /** When a pending deletion destroys the key. */
  deletionDate?: Date;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const STATES = new Set(['Enabled', 'PendingDeletion']);

/**
 * The base64 key of a `{id, key}` body, for the id that was asked for. Left in base64
 * so that every caller decodes a copy of its own, which it may wipe.
 */
export function encodedKeyOf(exchange: Exchange, id: string): string {
  const body = exchange.answer.body as { id?: unknown; key?: unknown } | undefined;
  // Never quote the body: it holds a key.
  if (body?.id !== id) throw invalid(exchange, `the answer is not for id '${id}'`);
  if (typeof body.key !== 'string' || body.key === '' || !BASE64.test(body.key))
    throw invalid(exchange, 'the answer has no base64 key');
  return body.key;
}

/** The `{id, state, deletion_date?}` body of a delete or restore. */
export function statusOf(exchange: Exchange, id: string): KeyStatus {
  const body = exchange.answer.body as { id?: unknown; state?: unknown; deletion_date?: unknown } | undefined;
  if (body?.id !== id) throw invalid(exchange, `the answer is not for id '${id}'`);
  if (typeof body.state !== 'string' || !STATES.has(body.state))
    throw invalid(exchange, 'the answer has no key state');
  const status: KeyStatus = { id, state: body.state as KeyStatus['state'] };
  if (typeof body.deletion_date === 'string') status.deletionDate = new Date(body.deletion_date);
  return status;
}

function invalid({ answer, url }: Exchange, reason: string): RkmsError {
  return new RkmsError({
    errorType: 'InvalidResponse',
    message: `${url} answered HTTP ${answer.status} but ${reason}: is this URL an RKMS?`,
    status: answer.status,
    requestId: answer.requestId,
    url,
    retryable: false,
  });
}
