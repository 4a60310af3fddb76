/** Overwrites key material in place once it is no longer needed (a copy answered too late, an evicted entry). */
export function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}
