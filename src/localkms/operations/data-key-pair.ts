import Type from 'typebox';
import { KmsError } from '../errors.js';
import { newKeyPair, type KeyPair } from '../key-material.js';
import { DATA_KEY_PAIR_SPECS, type LocalDataKeyPairSpec } from '../key-specs.js';
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

/** The request both GenerateDataKeyPair operations take. */
export const dataKeyPairRequestMembers = {
  EncryptionContext: Type.Optional(EncryptionContextField),
  KeyId: KeyIdField,
  KeyPairSpec: Type.Enum([
    'RSA_2048',
    'RSA_3072',
    'RSA_4096',
    'ECC_NIST_P256',
    'ECC_NIST_P384',
    'ECC_NIST_P521',
    'ECC_SECG_P256K1',
    'SM2',
    'ECC_NIST_EDWARDS25519',
  ]),
  GrantTokens: Type.Optional(GrantTokensField),
  DryRun: Type.Optional(DryRunField),
};

interface DataKeyPairRequest {
  KeyId: string;
  KeyPairSpec: string;
  EncryptionContext?: Record<string, string>;
  DryRun?: boolean;
}

export interface DataKeyPair extends KeyPair {
  readonly spec: LocalDataKeyPairSpec;
  /** The private key encrypted under the symmetric KMS key. */
  readonly privateKeyCiphertext: Buffer;
  readonly keyArn: string;
  readonly keyMaterialId: string;
}

/**
 * A fresh key pair (DER PKCS #8 private key, DER SubjectPublicKeyInfo public
 * key) with its private key encrypted under a symmetric encryption key.
 */
export async function newDataKeyPair(
  request: DataKeyPairRequest,
  operation: string,
  { region, store }: OperationContext,
): Promise<DataKeyPair> {
  const key = resolveKey(store, region, request.KeyId, 'key-or-alias');
  assertUsable(key);
  assertSymmetricEncryptionKey(key, operation);
  const spec = DATA_KEY_PAIR_SPECS.find((candidate) => candidate === request.KeyPairSpec);
  if (!spec) {
    throw new KmsError(
      'UnsupportedOperationException',
      `KeyPairSpec ${request.KeyPairSpec} is not supported by the local KMS (it makes ` +
        `${DATA_KEY_PAIR_SPECS.join(', ')}).`,
    );
  }
  stopIfDryRun(request.DryRun);
  const pair = await newKeyPair(spec);
  return {
    ...pair,
    spec,
    privateKeyCiphertext: encryptUnder(key, pair.privateKey, request.EncryptionContext),
    keyArn: key.arn,
    keyMaterialId: keyMaterialId(key, key.materials.length - 1),
  };
}
