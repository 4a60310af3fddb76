import { randomBytes } from 'node:crypto';
import Type from 'typebox';
import { KmsError } from '../errors.js';
import { resolveKey } from '../resolve.js';
import {
  assertSymmetricEncryptionKey,
  assertUsable,
  DryRunField,
  EncryptionContextField,
  GrantTokensField,
  KeyIdField,
  keyMaterialId,
  stopIfDryRun,
} from './common.js';
import { encryptUnder } from './crypto.js';
import type { OperationContext } from './operation.js';

/** The request both GenerateDataKey operations take. */
export const dataKeyRequestMembers = {
  KeyId: KeyIdField,
  EncryptionContext: Type.Optional(EncryptionContextField),
  NumberOfBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
  KeySpec: Type.Optional(Type.Enum(['AES_256', 'AES_128'])),
  GrantTokens: Type.Optional(GrantTokensField),
  DryRun: Type.Optional(DryRunField),
};

const KEY_SPEC_BYTES = { AES_128: 16, AES_256: 32 } as const;

interface DataKeyRequest {
  KeyId: string;
  EncryptionContext?: Record<string, string>;
  NumberOfBytes?: number;
  KeySpec?: keyof typeof KEY_SPEC_BYTES;
  DryRun?: boolean;
}

export interface DataKey {
  readonly plaintext: Buffer;
  readonly ciphertext: Buffer;
  readonly keyArn: string;
  readonly keyMaterialId: string;
}

/** A fresh random data key and its ciphertext under the requested KMS key, which must be symmetric. */
export function newDataKey(
  request: DataKeyRequest,
  operation: string,
  { region, store }: OperationContext,
): DataKey {
  const size = dataKeySize(request);
  const key = resolveKey(store, region, request.KeyId, 'key-or-alias');
  assertUsable(key);
  assertSymmetricEncryptionKey(key, operation);
  stopIfDryRun(request.DryRun);
  const plaintext = randomBytes(size);
  return {
    plaintext,
    ciphertext: encryptUnder(key, plaintext, request.EncryptionContext),
    keyArn: key.arn,
    keyMaterialId: keyMaterialId(key, key.materials.length - 1),
  };
}

function dataKeySize(request: DataKeyRequest): number {
  if (request.NumberOfBytes !== undefined && request.KeySpec !== undefined) {
    throw new KmsError('ValidationException', 'Specify either NumberOfBytes or KeySpec, not both.');
  }
  if (request.NumberOfBytes !== undefined) return request.NumberOfBytes;
  if (request.KeySpec !== undefined) return KEY_SPEC_BYTES[request.KeySpec];
  throw new KmsError('ValidationException', 'Please specify either number of bytes or key spec.');
}
