import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM with a random 96-bit nonce and a 128-bit tag: the local KMS's ciphertexts and
 * encrypted store, and the client's envelopes. Each lays the parts out in its own format.
 */
export interface Sealed {
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export const IV_BYTES = 12;
export const TAG_BYTES = 16;

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/** The plaintext, or undefined when the key, the AAD or any byte is not what was sealed. */
export function open(
  key: Uint8Array,
  sealed: { iv: Uint8Array; tag: Uint8Array; ciphertext: Uint8Array },
  aad: Uint8Array,
): Buffer | undefined {
  let output: Buffer | undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.tag);
    output = decipher.update(sealed.ciphertext);
    return Buffer.concat([output, decipher.final()]);
  } catch {
    // Unauthenticated output must not escape, even in part.
    output?.fill(0);
    return undefined;
  }
}
