/** The encryption context of a KMS call: RKMS binds every ciphertext to its id with `{"rkms:id": id}`. */
export type EncryptionContext = Record<string, string>;

/**
 * One region's KMS, narrowed to the calls RKMS makes. `aws-backend.ts` implements it with
 * the AWS SDK; a region does not know or care which implementation it talks to.
 */
export interface KmsBackend {
  generateDataKey(
    input: { keyId: string; numberOfBytes: number; context: EncryptionContext },
    signal?: AbortSignal,
  ): Promise<{ plaintext: Uint8Array; ciphertext: Uint8Array }>;
  encrypt(
    input: { keyId: string; plaintext: Uint8Array; context: EncryptionContext | undefined },
    signal?: AbortSignal,
  ): Promise<{ ciphertext: Uint8Array; keyArn: string | undefined }>;
  /** With `keyId` undefined, KMS finds the key from the ciphertext (symmetric keys only). */
  decrypt(
    input: { keyId: string | undefined; ciphertext: Uint8Array; context: EncryptionContext | undefined },
    signal?: AbortSignal,
  ): Promise<{ plaintext: Uint8Array; keyArn: string | undefined }>;
  /** The ARN of a key id or alias. */
  describeKey(keyId: string, signal?: AbortSignal): Promise<{ arn: string }>;
  close(): void;
}

/** A reply that lacks what the call promises: treated as a failure of the region, like a 5xx. */
export class MalformedReplyError extends Error {
  override name = 'MalformedReplyError';
}
