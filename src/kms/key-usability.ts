import { encryptionContextFor } from '../keys/id.js';
import type { Kms } from './kms.js';
import type { RegionHealth } from './region.js';

/** A key probe that takes longer than this counts as failed: readiness must answer quickly. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * What a probe encrypts to learn whether a region's key became usable again: not a key
 * (zeros), under an id of its own, so the policy that binds every call to an rkms:id is the
 * one tested.
 */
const PROBE_PLAINTEXT = new Uint8Array(32);
const PROBE_CONTEXT = encryptionContextFor('rkms:readiness-probe');

/**
 * Every region's key is unusable (disabled, missing, forbidden to this replica's role): this
 * replica's own configuration is broken, not a shared dependency's availability, and no
 * request can succeed until it is fixed. HTTP's /readyz and gRPC's health both read it.
 */
export function everyKeyUnusable(regions: readonly RegionHealth[]): boolean {
  return regions.length > 0 && regions.every((r) => r.trippedBy === 'misconfigured');
}

export function unusableKeysReason(regions: readonly RegionHealth[]): string {
  const why = regions.map((r) => `${r.region}: ${r.lastCall?.reason ?? 'its key is unusable'}`).join('; ');
  return `no KMS region can use its configured key (${why}): fix the keys or the role's permissions`;
}

/**
 * An unready replica gets no requests, so nothing else would find out that its keys were
 * fixed: while no region's key is known to work and some region's is known not to, the
 * readiness check itself makes the probe call of each such region (a region never called
 * yet included: a failed key creation stops before it reaches every region) whenever the
 * circuit lets one through, which is once per `reset_after_ms`.
 */
export async function probeUnusableKeys(kms: Kms): Promise<void> {
  const regions = kms.health();
  const unusable = (r: RegionHealth) => r.trippedBy === 'misconfigured';
  if (!regions.some(unusable) || !regions.every((r) => unusable(r) || r.lastCall === undefined)) return;
  const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  await Promise.all(
    regions
      .filter((r) => kms.callable(r.region))
      .map((r) => kms.encryptIn(r.region, PROBE_PLAINTEXT, PROBE_CONTEXT, signal).catch(() => undefined)),
  );
}

/** Whether this replica's keys let it serve, after probing the unusable ones (readiness of HTTP and gRPC). */
export async function keysUsable(kms: Kms): Promise<boolean> {
  await probeUnusableKeys(kms);
  return !everyKeyUnusable(kms.health());
}
