import type { EncryptionContext } from './backend.js';
import type { RegionCallError } from './errors.js';
import type { RegionHealth } from './region.js';

/** A data key opened from one of its copies. */
export interface OpenedKey {
  plaintext: Uint8Array;
  /** The region that decrypted it. */
  region: string;
  /** Copies that their region refused (damaged, or made under another key) before one answered. */
  refused: RegionCallError[];
}

/** A new data key and its copies: at least `minRegions` of them. */
export interface NewDataKey {
  plaintext: Uint8Array;
  /** Region → ciphertext of the key under that region's KMS key. */
  copies: Record<string, Uint8Array>;
  /** Configured regions that hold no copy yet: repair adds them later. */
  missing: string[];
  /** The region that generated it. */
  generatedIn: string;
}

/**
 * The configured KMS regions, used as one. This is what the key service depends on;
 * `RegionalKms` implements it over one `Region` per configured region.
 */
export interface Kms {
  /** The configured regions, nearest first. */
  readonly regions: readonly string[];
  /** Regions a new key needs copies in before it is stored. */
  readonly minRegions: number;
  /** Decrypts one copy, preferring healthy, fast regions and falling back to the others. */
  open(
    copies: Readonly<Record<string, Uint8Array>>,
    context: EncryptionContext | undefined,
    signal?: AbortSignal,
  ): Promise<OpenedKey>;
  /** Generates a key and encrypts it in every reachable region; fails unless `minRegions` hold a copy. */
  newDataKey(context: EncryptionContext, numberOfBytes: number, signal?: AbortSignal): Promise<NewDataKey>;
  /** One region's copy of a key RKMS already holds (repair). */
  encryptIn(
    region: string,
    plaintext: Uint8Array,
    context: EncryptionContext | undefined,
    signal?: AbortSignal,
  ): Promise<Uint8Array>;
  /** Decrypts one region's copy; with `anyKey`, under whichever key made it, which the reply names. */
  decryptIn(
    region: string,
    ciphertext: Uint8Array,
    context: EncryptionContext | undefined,
    options?: { anyKey?: boolean; signal?: AbortSignal },
  ): Promise<{ plaintext: Uint8Array; keyArn: string | undefined }>;
  /** The ARN of a region's configured key. */
  keyArn(region: string, signal?: AbortSignal): Promise<string>;
  /** Whether a call to the region would be made now (its circuit is not open). */
  callable(region: string): boolean;
  health(): RegionHealth[];
  close(): void;
}
