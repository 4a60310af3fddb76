import { createHash, randomBytes } from 'node:crypto';

/** Marks RKMS tokens so secret scanners and people recognize one in a file or a log. */
export const TOKEN_PREFIX = 'rkms_';
const TOKEN_BYTES = 32;

/** A new bearer token: 256 random bits, base64url, after the prefix. */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
}

/** What `[[auth.clients]] token_sha256` holds: the hex SHA-256 of the token's UTF-8 bytes. */
export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
