import type { FailureKind } from '../resilience/failures.js';

/** `skipped`: the region was not called at all (its circuit is open). */
export type RegionFailureKind = FailureKind | 'skipped';

/** Why one region could not serve a call. `reason` is safe to show to callers; `detail` is for the log. */
export class RegionCallError extends Error {
  override name = 'RegionCallError';
  constructor(
    readonly region: string,
    readonly kind: RegionFailureKind,
    readonly reason: string,
    readonly detail?: string,
    options?: ErrorOptions,
  ) {
    super(`${region}: ${reason}`, options);
  }
}

/** No region (or too few, for a new key) could serve the call; names each region and why. */
export class KmsUnavailableError extends Error {
  override name = 'KmsUnavailableError';
  constructor(
    readonly operation: string,
    readonly failures: readonly RegionCallError[],
  ) {
    super(
      failures.length === 0
        ? `no KMS region can ${operation}`
        : `no KMS region could ${operation}: ${failures.map((f) => f.message).join('; ')}`,
    );
  }
}

/**
 * Every region that holds a copy of the key refused it: the stored item does not belong
 * to this id (copied from another item) or was altered.
 */
export class CiphertextRejectedError extends Error {
  override name = 'CiphertextRejectedError';
  constructor(readonly failures: readonly RegionCallError[]) {
    super(`every region refused its copy of the key: ${failures.map((f) => f.message).join('; ')}`);
  }
}

/** Turns whatever a candidate threw into a RegionCallError for that region. */
export function asRegionFailure(err: unknown, region: string): RegionCallError {
  return err instanceof RegionCallError
    ? err
    : new RegionCallError(region, 'transient', 'unexpected error', String(err), { cause: err });
}
