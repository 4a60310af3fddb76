/**
 * A copy of key material in memory of its own. Small Buffers from Buffer.from share
 * an 8 KiB pool with unrelated Buffers, which could then read the key through `.buffer`.
 */
export function privateCopy(bytes: Uint8Array): Buffer {
  const copy = Buffer.alloc(bytes.length);
  copy.set(bytes);
  return copy;
}

/** Decodes a base64 key into memory of its own, leaving no other copy of the bytes. */
export function keyFromBase64(base64: string): Buffer {
  const decoded = Buffer.from(base64, 'base64');
  const key = privateCopy(decoded);
  decoded.fill(0);
  return key;
}
