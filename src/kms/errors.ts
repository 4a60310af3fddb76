import { describeAwsError } from '../config/aws.js';

/**
 * Why one region could not serve a call. `rejected` means the region is up but
 * refused this ciphertext (wrong key or encryption context, tampered blob): trying
 * again there cannot help, and it says nothing about the region's health.
 */
export type FailureKind = 'unavailable' | 'rejected';

export class RegionCallError extends Error {
  override name = 'RegionCallError';
  constructor(
    readonly region: string,
    readonly kind: FailureKind,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${region}: ${reason}`, options);
  }
}

/** KMS errors that mean "this ciphertext does not belong to this key and context". */
const REJECTIONS = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

export function failureKind(err: unknown): FailureKind {
  return REJECTIONS.has((err as { name?: string } | null)?.name ?? '') ? 'rejected' : 'unavailable';
}

export function isAbort(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'AbortError';
}

export function describeKmsError(err: unknown): string {
  const code = (err as { code?: string } | null)?.code;
  if (code === 'EOPENBREAKER') return 'skipped: circuit open after repeated failures';
  if ((err as { name?: string } | null)?.name === 'TimeoutError')
    return `timed out (${(err as Error).message})`;
  return describeAwsError(err);
}

/** No region could serve the call; names each region and why. */
export class KmsUnavailableError extends Error {
  override name = 'KmsUnavailableError';
  constructor(
    readonly operation: string,
    readonly failures: RegionCallError[],
  ) {
    super(
      failures.length === 0
        ? `no KMS region can ${operation}: none is configured for this key`
        : `no KMS region could ${operation}: ${failures.map((f) => f.message).join('; ')}`,
    );
  }
}

/**
 * Every region that holds a ciphertext for the id refused it: the stored item does
 * not belong to this id (copied from another item) or was altered.
 */
export class CiphertextRejectedError extends Error {
  override name = 'CiphertextRejectedError';
  constructor(readonly failures: RegionCallError[]) {
    super(`every region refused the stored ciphertext: ${failures.map((f) => f.message).join('; ')}`);
  }
}
