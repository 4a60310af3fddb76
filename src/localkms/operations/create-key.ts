import Type from 'typebox';
import { KmsError } from '../errors.js';
import { newKeyMaterial } from '../key-material.js';
import { isLocalKeySpec, usagesOf, type LocalKeySpec, type LocalKeyUsage } from '../key-specs.js';
import { keyMetadata, TagsField } from './common.js';
import { defineStateChange } from './operation.js';
import { assertTagLimit, validTags } from './tags.js';

/** Every key spec of AWS's API, so a spec AWS knows but this emulator does not make is told apart from a typo. */
const AWS_KEY_SPECS = [
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
  'ECC_NIST_P521',
  'ECC_SECG_P256K1',
  'SYMMETRIC_DEFAULT',
  'HMAC_224',
  'HMAC_256',
  'HMAC_384',
  'HMAC_512',
  'SM2',
  'ML_DSA_44',
  'ML_DSA_65',
  'ML_DSA_87',
  'ECC_NIST_EDWARDS25519',
];
const AWS_CUSTOMER_MASTER_KEY_SPECS = AWS_KEY_SPECS.filter(
  (spec) => !spec.startsWith('ML_DSA') && spec !== 'ECC_NIST_EDWARDS25519',
);

/**
 * CreateKey: symmetric, RSA, ECC and HMAC keys, single- or multi-Region, with
 * key material made by the emulator. The checks run in AWS's order: both
 * KeySpec and the deprecated CustomerMasterKeySpec before anything else, then
 * the members' shapes, then the spec and usage together. Policy is accepted
 * and ignored.
 */
export const createKey = defineStateChange(
  'CreateKey',
  Type.Object({
    Policy: Type.Optional(Type.String({ minLength: 1, maxLength: 131072 })),
    Description: Type.Optional(Type.String({ maxLength: 8192 })),
    KeyUsage: Type.Optional(
      Type.Enum(['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT']),
    ),
    CustomerMasterKeySpec: Type.Optional(Type.Enum(AWS_CUSTOMER_MASTER_KEY_SPECS)),
    KeySpec: Type.Optional(Type.Enum(AWS_KEY_SPECS)),
    Origin: Type.Optional(Type.Enum(['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'])),
    CustomKeyStoreId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    BypassPolicyLockoutSafetyCheck: Type.Optional(Type.Boolean()),
    Tags: Type.Optional(TagsField),
    MultiRegion: Type.Optional(Type.Boolean()),
    XksKeyId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  }),
  async (request, { region, store, persist }) => {
    const { keySpec, keyUsage } = keyKind(request);
    const tags = validTags(request.Tags);
    assertTagLimit(tags.size);
    const material = await newKeyMaterial(keySpec);
    const key = store.createKey(region, {
      description: request.Description ?? '',
      tags,
      keySpec,
      keyUsage,
      material,
      multiRegion: request.MultiRegion ?? false,
    });
    await persist();
    return { KeyMetadata: keyMetadata(key, store) };
  },
  (body) => {
    if (body.KeySpec !== undefined && body.CustomerMasterKeySpec !== undefined) {
      throw new KmsError(
        'ValidationException',
        'You cannot specify KeySpec and CustomerMasterKeySpec in the same request. ' +
          'CustomerMasterKeySpec is deprecated.',
      );
    }
  },
);

interface KeyKindRequest {
  KeyUsage?: string;
  KeySpec?: string;
  CustomerMasterKeySpec?: string;
  Origin?: string;
  CustomKeyStoreId?: string;
  XksKeyId?: string;
}

function keyKind(request: KeyKindRequest): { keySpec: LocalKeySpec; keyUsage: LocalKeyUsage } {
  const spec = request.KeySpec ?? request.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
  assertEmulated(request, spec);
  const keySpec = spec as LocalKeySpec;
  if (request.KeyUsage === undefined && keySpec !== 'SYMMETRIC_DEFAULT') {
    throw new KmsError(
      'ValidationException',
      'You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.',
    );
  }
  const allowed = usagesOf(keySpec);
  const keyUsage = (request.KeyUsage ?? 'ENCRYPT_DECRYPT') as LocalKeyUsage;
  if (!allowed.includes(keyUsage)) {
    throw new KmsError(
      'ValidationException',
      `The operation failed because the KeyUsage value of the CMK is ${keyUsage}. ` +
        `To perform this operation, the KeyUsage value must be ${allowed.join(' or ')}.`,
    );
  }
  return { keySpec, keyUsage };
}

/**
 * What AWS has and the emulator does not make is UnsupportedOperationException, so it is never
 * mistaken for a user error.
 */
function assertEmulated(request: KeyKindRequest, spec: string): void {
  const unsupported = (what: string) =>
    new KmsError(
      'UnsupportedOperationException',
      `${what} is not supported by the local KMS (it makes SYMMETRIC_DEFAULT, RSA, ` +
        `ECC and HMAC keys with key material of its own).`,
    );
  if (!isLocalKeySpec(spec)) throw unsupported(`KeySpec ${spec}`);
  if (request.KeyUsage === 'KEY_AGREEMENT') throw unsupported('KeyUsage KEY_AGREEMENT');
  if (request.Origin !== undefined && request.Origin !== 'AWS_KMS')
    throw unsupported(`Origin ${request.Origin}`);
  if (request.CustomKeyStoreId !== undefined || request.XksKeyId !== undefined)
    throw unsupported('A custom key store');
}
