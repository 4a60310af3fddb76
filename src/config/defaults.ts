/** Defaults that depend on other settings; the loader fills them in, so the rest of RKMS reads one value. */

/** The key a region uses when `kms.key_ids` does not name one. */
export function defaultKeyId(region: string): string {
  return `alias/rkms-${region}`;
}

/** A new key needs copies in a majority of the configured regions. */
export function defaultMinRegions(regionCount: number): number {
  return Math.floor(regionCount / 2) + 1;
}

/**
 * The longest a replica may keep a decrypted key in memory. It stays far below the
 * shortest deletion window (one day), so a key is never destroyed while any replica,
 * whatever its own settings, could still serve it from its cache.
 */
export const MAX_CACHE_TTL_SECONDS = 3600;
