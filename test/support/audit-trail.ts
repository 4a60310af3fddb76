import { readFile } from 'node:fs/promises';
import type { AuditRecord } from '../../src/audit/record.js';
import { newToken, tokenSha256 } from '../../src/auth/token.js';
import { testConfig } from './config.js';
import { startStack, type RunningService, type Stack } from './stack.js';

/** A line of the audit trail as written: `{"type":"audit", ...the record}`. */
export type AuditLine = AuditRecord & { type: string };

/** The text of a replica's audit trail, as written so far. */
export function auditTrailText(rkms: RunningService): Promise<string> {
  return readFile(rkms.service.security.audit.destination, 'utf8');
}

/** The lines of a replica's audit trail, parsed. */
export async function auditTrail(rkms: RunningService): Promise<AuditLine[]> {
  return (await auditTrailText(rkms))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditLine);
}

/** The stack of the audit trail tests (HTTP and gRPC), and its two clients' tokens. */
export interface AuditedStack {
  stack: Stack;
  /** Client `app`: any id, every action. */
  token: string;
  /** Client `reader`: any id, get only. */
  readerToken: string;
}

/** Keys cached (a cached answer is audited too), no hedging, no rate limits: each call is one line. */
export async function startAuditedStack(label: string): Promise<AuditedStack> {
  const token = newToken();
  const readerToken = newToken();
  const stack = await startStack(
    testConfig({
      cache: { ttl_seconds: 5 },
      kms: { hedge_after_ms: 0 },
      auth: {
        clients: [
          {
            name: 'app',
            token_sha256: tokenSha256(token),
            ids: ['*'],
            actions: ['get', 'create', 'delete', 'restore'],
          },
          { name: 'reader', token_sha256: tokenSha256(readerToken), ids: ['*'], actions: ['get'] },
        ],
      },
      rate_limit: { requests_per_minute: 0, creates_per_minute: 0 },
    }),
    label,
  );
  return { stack, token, readerToken };
}
