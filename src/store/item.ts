import { MalformedItemError, type KeyRecord } from './store.js';

/**
 * The DynamoDB item of one id: the original RKMS's `{id, keys: {region: base64}}` plus
 * RKMS's own attributes. Reading accepts both; a damaged copy is reported for its region
 * alone, so the other regions keep serving the key.
 */

/** The `ctx` attribute's value: the encryption context key the ciphertexts are bound to. */
export const CONTEXT_MARKER = 'rkms:id';

export const ATTRIBUTES = {
  '#id': 'id',
  '#keys': 'keys',
  '#ctx': 'ctx',
  '#created': 'created_at',
  '#version': 'version',
  '#state': 'state',
  '#deletion': 'deletion_date',
} as const;

export type AttributeName = keyof typeof ATTRIBUTES;

/** ExpressionAttributeNames for the attributes an expression uses. */
export function names(...used: AttributeName[]): Record<string, string> {
  return Object.fromEntries(used.map((n) => [n, ATTRIBUTES[n]]));
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function encodeCopies(copies: Record<string, Uint8Array>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(copies).map(([region, blob]) => [region, Buffer.from(blob).toString('base64')]),
  );
}

/** Reads an item in RKMS's format or the original RKMS's `{id, keys}` format. */
export function recordFromItem(id: string, item: Record<string, unknown>): KeyRecord {
  const state: unknown = item.state ?? 'Enabled';
  if (state !== 'Enabled' && state !== 'PendingDeletion' && state !== 'Deleted') {
    throw new MalformedItemError(id, `unknown state ${JSON.stringify(state)}`);
  }
  const version = item.version ?? 0;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
    throw new MalformedItemError(id, 'attribute "version" is not a non-negative integer');
  }
  const common = {
    id,
    version,
    ...(typeof item.created_at === 'string' ? { createdAt: item.created_at } : {}),
    ...(typeof item.deletion_date === 'string' ? { deletionDate: item.deletion_date } : {}),
  };
  if (state === 'Deleted') return { ...common, state };

  const keys = item.keys;
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
    throw new MalformedItemError(id, 'attribute "keys" is not a map of region to ciphertext');
  }
  if (Object.keys(keys).length === 0) throw new MalformedItemError(id, 'attribute "keys" is empty');
  if (item.ctx !== undefined && item.ctx !== CONTEXT_MARKER) {
    throw new MalformedItemError(
      id,
      `attribute "ctx" is ${JSON.stringify(item.ctx)}, expected "${CONTEXT_MARKER}"`,
    );
  }
  const copies: Record<string, Uint8Array> = {};
  const malformed: string[] = [];
  for (const [region, value] of Object.entries(keys as Record<string, unknown>)) {
    if (typeof value === 'string' && BASE64.test(value)) copies[region] = Buffer.from(value, 'base64');
    else malformed.push(region);
  }
  return { ...common, state, copies, malformed, boundToId: item.ctx === CONTEXT_MARKER };
}
