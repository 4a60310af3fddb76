import Type from 'typebox';
import { KmsError } from '../errors.js';
import { keyMetadata, TagsField } from './common.js';
import { defineStateChange } from './operation.js';
import { assertTagLimit, validTags } from './tags.js';

/** CreateKey: symmetric ENCRYPT_DECRYPT keys with key material made by the emulator. Policy is accepted and ignored. */
export const createKey = defineStateChange(
  'CreateKey',
  Type.Object({
    Policy: Type.Optional(Type.String({ minLength: 1, maxLength: 131072 })),
    Description: Type.Optional(Type.String({ maxLength: 8192 })),
    KeyUsage: Type.Optional(
      Type.Enum(['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT']),
    ),
    CustomerMasterKeySpec: Type.Optional(Type.String()),
    KeySpec: Type.Optional(Type.String()),
    Origin: Type.Optional(Type.Enum(['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'])),
    CustomKeyStoreId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    BypassPolicyLockoutSafetyCheck: Type.Optional(Type.Boolean()),
    Tags: Type.Optional(TagsField),
    MultiRegion: Type.Optional(Type.Boolean()),
    XksKeyId: Type.Optional(Type.String()),
  }),
  async (request, { region, store, persist }) => {
    assertSupportedKeyKind(request);
    const tags = validTags(request.Tags);
    assertTagLimit(tags.size);
    const key = store.createKey(region, { description: request.Description ?? '', tags });
    await persist();
    return { KeyMetadata: keyMetadata(key, store.accountId) };
  },
);

function assertSupportedKeyKind(request: {
  KeyUsage?: string;
  KeySpec?: string;
  CustomerMasterKeySpec?: string;
  Origin?: string;
  CustomKeyStoreId?: string;
  MultiRegion?: boolean;
  XksKeyId?: string;
}): void {
  const unsupported = (what: string) =>
    new KmsError(
      'UnsupportedOperationException',
      `${what} is not supported by the local KMS, which makes symmetric encryption keys (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT) only.`,
    );
  if (request.KeyUsage !== undefined && request.KeyUsage !== 'ENCRYPT_DECRYPT')
    throw unsupported(`KeyUsage ${request.KeyUsage}`);
  const spec = request.KeySpec ?? request.CustomerMasterKeySpec;
  if (spec !== undefined && spec !== 'SYMMETRIC_DEFAULT') throw unsupported(`KeySpec ${spec}`);
  if (request.Origin !== undefined && request.Origin !== 'AWS_KMS')
    throw unsupported(`Origin ${request.Origin}`);
  if (request.CustomKeyStoreId !== undefined || request.XksKeyId !== undefined)
    throw unsupported('A custom key store');
  if (request.MultiRegion) throw unsupported('A multi-Region key');
}
