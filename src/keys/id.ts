/** What an id may be. The HTTP schema and the service both use these rules. */

export const MAX_ID_LENGTH = 512;

/** No C0/C1 control characters: they break logs, terminals and copy-paste. */
export const ID_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f]+$';

/** The encryption context that binds every KMS call (and so every ciphertext) to its id. */
export function encryptionContextFor(id: string): Record<string, string> {
  return { 'rkms:id': id };
}
