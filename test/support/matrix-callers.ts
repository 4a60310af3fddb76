import { newToken, tokenSha256 } from '../../src/auth/token.js';
import { testConfig } from './config.js';
import { startStack, type Stack } from './stack.js';

/**
 * The callers of issue #7's authorization matrix, shared by its HTTP and gRPC tests: each
 * file writes out its own expected answers for them, cell by cell.
 */
export const tokens = {
  billing: newToken(),
  reader: newToken(),
  creator: newToken(),
  operator: newToken(),
  admin: newToken(),
};

const clients = [
  { name: 'billing', ids: ['billing/*', 'shared/*'], actions: ['get', 'create', 'delete', 'restore'] },
  { name: 'reader', ids: ['billing/*'], actions: ['get'] },
  { name: 'creator', ids: ['billing/*'], actions: ['create'] },
  { name: 'operator', ids: ['*'], actions: ['delete', 'restore'] },
  // Sets up the ids that have a key; not part of the matrix.
  { name: 'admin', ids: ['*'], actions: ['get', 'create'] },
].map((client) => ({ ...client, token_sha256: tokenSha256(tokens[client.name as keyof typeof tokens]) }));

export type Caller = keyof typeof tokens | 'none' | 'unknown token' | 'not bearer';
export type IdClass = 'billing/' | 'shared/' | 'other/';

/** The Authorization a caller sends (HTTP header, gRPC metadata): none, a token, or no bearer token at all. */
export function credentialsOf(caller: Caller): Record<string, string> {
  switch (caller) {
    case 'none':
      return {};
    case 'unknown token':
      return { authorization: `Bearer ${newToken()}` };
    case 'not bearer':
      return { authorization: `Basic ${Buffer.from(`billing:${tokens.billing}`).toString('base64')}` };
    default:
      return { authorization: `Bearer ${tokens[caller]}` };
  }
}

/** The two ids of a pair differ by their cell number; the rest of a message must not. */
export function scrub(message: unknown): string {
  return String(message).replace(/cell-\d+/g, 'cell-N');
}

/** The matrix's clients, nothing cached (each cell reads the store), no rate limits. */
export function startMatrixStack(label: string): Promise<Stack> {
  return startStack(
    testConfig({
      cache: { ttl_seconds: 0 },
      auth: { clients },
      rate_limit: { requests_per_minute: 0, creates_per_minute: 0 },
    }),
    label,
  );
}
