import type { FastifyReply } from 'fastify';
import type { Static } from 'typebox';
import { wipe } from '../../kms/key-material.js';
import type { KeyBody } from '../schemas.js';

/** The `{id, key}` body; the caller's copy of the key is wiped once encoded. */
export function keyBody(id: string, key: Uint8Array, reply: FastifyReply): Static<typeof KeyBody> {
  const encoded = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64');
  wipe(key);
  return encodedKeyBody(id, encoded, reply);
}

/** The `{id, key}` body of a key already in base64. */
export function encodedKeyBody(id: string, key: string, reply: FastifyReply): Static<typeof KeyBody> {
  // Never let a proxy or browser keep a key.
  void reply.header('cache-control', 'no-store');
  return { id, key };
}
