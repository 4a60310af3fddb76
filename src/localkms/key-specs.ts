import type {
  DataKeyPairSpec,
  EncryptionAlgorithmSpec,
  KeySpec,
  KeyUsageType,
  MacAlgorithmSpec,
  SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';

/**
 * The key specs the local KMS makes, with what AWS allows for each: key
 * usages, and the encryption, signing or MAC algorithms a key of that spec
 * supports (AWS KMS Developer Guide, "Key spec reference"). The lists are in
 * the order AWS's DescribeKey gives them.
 */

export type LocalKeySpec = Extract<
  KeySpec,
  | 'SYMMETRIC_DEFAULT'
  | 'RSA_2048'
  | 'RSA_3072'
  | 'RSA_4096'
  | 'ECC_NIST_P256'
  | 'ECC_NIST_P384'
  | 'ECC_NIST_P521'
  | 'ECC_SECG_P256K1'
  | 'HMAC_224'
  | 'HMAC_256'
  | 'HMAC_384'
  | 'HMAC_512'
>;
export type LocalKeyUsage = Extract<KeyUsageType, 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC'>;
export type LocalSigningAlgorithm = Extract<
  SigningAlgorithmSpec,
  | 'RSASSA_PSS_SHA_256'
  | 'RSASSA_PSS_SHA_384'
  | 'RSASSA_PSS_SHA_512'
  | 'RSASSA_PKCS1_V1_5_SHA_256'
  | 'RSASSA_PKCS1_V1_5_SHA_384'
  | 'RSASSA_PKCS1_V1_5_SHA_512'
  | 'ECDSA_SHA_256'
  | 'ECDSA_SHA_384'
  | 'ECDSA_SHA_512'
>;
export type RsaEncryptionAlgorithm = Extract<
  EncryptionAlgorithmSpec,
  'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256'
>;
export type LocalDataKeyPairSpec = Extract<
  DataKeyPairSpec,
  | 'RSA_2048'
  | 'RSA_3072'
  | 'RSA_4096'
  | 'ECC_NIST_P256'
  | 'ECC_NIST_P384'
  | 'ECC_NIST_P521'
  | 'ECC_SECG_P256K1'
>;

export type HashName = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

/** How the key material of a spec is made and used. */
export type SpecKind =
  | { readonly kind: 'symmetric' }
  | { readonly kind: 'rsa'; readonly modulusBits: number }
  | { readonly kind: 'ecc'; readonly curve: EccCurve }
  | { readonly kind: 'hmac'; readonly keyBytes: number; readonly macAlgorithm: MacAlgorithm };

export type EccCurve = 'prime256v1' | 'secp384r1' | 'secp521r1' | 'secp256k1';
export type MacAlgorithm = Extract<
  MacAlgorithmSpec,
  'HMAC_SHA_224' | 'HMAC_SHA_256' | 'HMAC_SHA_384' | 'HMAC_SHA_512'
>;

export const KEY_SPECS: Readonly<Record<LocalKeySpec, SpecKind>> = {
  SYMMETRIC_DEFAULT: { kind: 'symmetric' },
  RSA_2048: { kind: 'rsa', modulusBits: 2048 },
  RSA_3072: { kind: 'rsa', modulusBits: 3072 },
  RSA_4096: { kind: 'rsa', modulusBits: 4096 },
  ECC_NIST_P256: { kind: 'ecc', curve: 'prime256v1' },
  ECC_NIST_P384: { kind: 'ecc', curve: 'secp384r1' },
  ECC_NIST_P521: { kind: 'ecc', curve: 'secp521r1' },
  ECC_SECG_P256K1: { kind: 'ecc', curve: 'secp256k1' },
  HMAC_224: { kind: 'hmac', keyBytes: 28, macAlgorithm: 'HMAC_SHA_224' },
  HMAC_256: { kind: 'hmac', keyBytes: 32, macAlgorithm: 'HMAC_SHA_256' },
  HMAC_384: { kind: 'hmac', keyBytes: 48, macAlgorithm: 'HMAC_SHA_384' },
  HMAC_512: { kind: 'hmac', keyBytes: 64, macAlgorithm: 'HMAC_SHA_512' },
};

export const DATA_KEY_PAIR_SPECS: readonly LocalDataKeyPairSpec[] = [
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
  'ECC_NIST_P521',
  'ECC_SECG_P256K1',
];

const RSA_SIGNING: readonly LocalSigningAlgorithm[] = [
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
];

const RSA_ENCRYPTION: readonly RsaEncryptionAlgorithm[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];

export interface SigningScheme {
  readonly hash: HashName;
  readonly digestBytes: number;
  readonly padding: 'pkcs1' | 'pss' | 'ecdsa';
}

export const SIGNING_SCHEMES: Readonly<Record<LocalSigningAlgorithm, SigningScheme>> = {
  RSASSA_PSS_SHA_256: { hash: 'sha256', digestBytes: 32, padding: 'pss' },
  RSASSA_PSS_SHA_384: { hash: 'sha384', digestBytes: 48, padding: 'pss' },
  RSASSA_PSS_SHA_512: { hash: 'sha512', digestBytes: 64, padding: 'pss' },
  RSASSA_PKCS1_V1_5_SHA_256: { hash: 'sha256', digestBytes: 32, padding: 'pkcs1' },
  RSASSA_PKCS1_V1_5_SHA_384: { hash: 'sha384', digestBytes: 48, padding: 'pkcs1' },
  RSASSA_PKCS1_V1_5_SHA_512: { hash: 'sha512', digestBytes: 64, padding: 'pkcs1' },
  ECDSA_SHA_256: { hash: 'sha256', digestBytes: 32, padding: 'ecdsa' },
  ECDSA_SHA_384: { hash: 'sha384', digestBytes: 48, padding: 'ecdsa' },
  ECDSA_SHA_512: { hash: 'sha512', digestBytes: 64, padding: 'ecdsa' },
};

export const OAEP_HASHES: Readonly<Record<RsaEncryptionAlgorithm, { hash: HashName; digestBytes: number }>> =
  {
    RSAES_OAEP_SHA_1: { hash: 'sha1', digestBytes: 20 },
    RSAES_OAEP_SHA_256: { hash: 'sha256', digestBytes: 32 },
  };

export const MAC_HASHES: Readonly<Record<MacAlgorithm, HashName>> = {
  HMAC_SHA_224: 'sha224',
  HMAC_SHA_256: 'sha256',
  HMAC_SHA_384: 'sha384',
  HMAC_SHA_512: 'sha512',
};

/** The key usages AWS accepts for a spec; the first is what CreateKey may default to (symmetric only). */
export function usagesOf(spec: LocalKeySpec): readonly LocalKeyUsage[] {
  switch (KEY_SPECS[spec].kind) {
    case 'symmetric':
      return ['ENCRYPT_DECRYPT'];
    case 'rsa':
      return ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'];
    case 'ecc':
      return ['SIGN_VERIFY'];
    case 'hmac':
      return ['GENERATE_VERIFY_MAC'];
  }
}

export function encryptionAlgorithmsOf(
  spec: LocalKeySpec,
  usage: LocalKeyUsage,
): readonly EncryptionAlgorithmSpec[] | undefined {
  if (usage !== 'ENCRYPT_DECRYPT') return undefined;
  return KEY_SPECS[spec].kind === 'rsa' ? RSA_ENCRYPTION : ['SYMMETRIC_DEFAULT'];
}

export function signingAlgorithmsOf(
  spec: LocalKeySpec,
  usage: LocalKeyUsage,
): readonly LocalSigningAlgorithm[] | undefined {
  if (usage !== 'SIGN_VERIFY') return undefined;
  const kind = KEY_SPECS[spec];
  if (kind.kind === 'rsa') return RSA_SIGNING;
  if (kind.kind !== 'ecc') return undefined;
  if (kind.curve === 'secp384r1') return ['ECDSA_SHA_384'];
  if (kind.curve === 'secp521r1') return ['ECDSA_SHA_512'];
  return ['ECDSA_SHA_256'];
}

export function macAlgorithmsOf(spec: LocalKeySpec): readonly MacAlgorithm[] | undefined {
  const kind = KEY_SPECS[spec];
  return kind.kind === 'hmac' ? [kind.macAlgorithm] : undefined;
}

export function isLocalKeySpec(value: string): value is LocalKeySpec {
  return Object.hasOwn(KEY_SPECS, value);
}

/** The largest plaintext RSAES-OAEP can take: k − 2·hLen − 2 bytes (RFC 8017, 7.1.1). */
export function oaepMaxPlaintextBytes(modulusBits: number, algorithm: RsaEncryptionAlgorithm): number {
  return modulusBits / 8 - 2 * OAEP_HASHES[algorithm].digestBytes - 2;
}
