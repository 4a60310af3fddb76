import { createHash } from 'node:crypto';
import Type, { type Static } from 'typebox';
import type { KeyState } from '@aws-sdk/client-kms';
import { KmsError } from '../errors.js';
import {
  encryptionAlgorithmsOf,
  KEY_SPECS,
  macAlgorithmsOf,
  signingAlgorithmsOf,
  type LocalKeyUsage,
} from '../key-specs.js';
import type { KeyStore } from '../keystore.js';
import type { KmsKey } from '../kms-key.js';
import type { WireObject, WireValue } from './operation.js';

/** Request members shared by several operations, with AWS's bounds. */
export const KeyIdField = Type.String({ minLength: 1, maxLength: 2048 });
export const EncryptionContextField = Type.Record(Type.String(), Type.String());
export const GrantTokensField = Type.Array(Type.String({ minLength: 1, maxLength: 8192 }), { maxItems: 10 });
export const EncryptionAlgorithmField = Type.Enum([
  'SYMMETRIC_DEFAULT',
  'RSAES_OAEP_SHA_1',
  'RSAES_OAEP_SHA_256',
  'SM2PKE',
]);
export type EncryptionAlgorithm = Static<typeof EncryptionAlgorithmField>;
export const DryRunField = Type.Boolean();
export const RecipientField = Type.Object({});
export const MarkerField = Type.String({ minLength: 1, maxLength: 1024, pattern: '^[\\u0020-\\u00FF]*$' });
export const TagsField = Type.Array(Type.Object({ TagKey: Type.String(), TagValue: Type.String() }));

export const PLAINTEXT_MAX_BYTES = 4096;
export const CIPHERTEXT_MAX_BYTES = 6144;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Seconds since the epoch, with milliseconds, as AWS's JSON protocol sends timestamps. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** Decodes a base64 blob member; the message never shows the value, which may be key material. */
export function decodeBlob(member: string, value: string, maxBytes: number): Buffer {
  if (!BASE64.test(value)) {
    throw new KmsError('SerializationException', `${member} is not valid base64`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length < 1) {
    throw new KmsError(
      'ValidationException',
      `1 validation error detected: Value at '${lowerFirst(member)}' failed to satisfy constraint: ` +
        `Member must have length greater than or equal to 1`,
    );
  }
  if (bytes.length > maxBytes) {
    throw new KmsError(
      'ValidationException',
      `1 validation error detected: Value at '${lowerFirst(member)}' failed to satisfy constraint: ` +
        `Member must have length less than or equal to ${maxBytes}`,
    );
  }
  return bytes;
}

export function encodeBlob(bytes: Buffer): string {
  return bytes.toString('base64');
}

/** Cryptographic operations need an enabled key: AWS names a disabled key and a key pending deletion differently. */
export function assertUsable(key: KmsKey): void {
  if (key.state === 'Disabled') throw new KmsError('DisabledException', `${key.arn} is disabled.`);
  assertNotPendingDeletion(key);
}

/** Management operations other than DescribeKey and the listings refuse a key pending deletion. */
export function assertNotPendingDeletion(key: KmsKey): void {
  if (key.state === 'PendingDeletion')
    throw new KmsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
  if (key.state === 'PendingReplicaDeletion')
    throw new KmsError('KMSInvalidStateException', `${key.arn} is pending replica deletion.`);
}

/** Each key has one usage; an operation of another usage is InvalidKeyUsageException, in AWS's words. */
export function assertKeyUsage(key: KmsKey, usage: LocalKeyUsage, operation: string): void {
  if (key.keyUsage !== usage) {
    throw new KmsError(
      'InvalidKeyUsageException',
      `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`,
    );
  }
}

/** The data-key operations encrypt under a symmetric encryption key only. */
export function assertSymmetricEncryptionKey(key: KmsKey, operation: string): void {
  assertKeyUsage(key, 'ENCRYPT_DECRYPT', operation);
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') {
    throw new KmsError(
      'InvalidKeyUsageException',
      `${key.arn} key spec is ${key.keySpec} which is not valid for ${operation}.`,
    );
  }
}

/** An algorithm the key's spec does not support, in AWS's words. */
export function incompatibleAlgorithm(algorithm: string, key: KmsKey): KmsError {
  return new KmsError(
    'InvalidKeyUsageException',
    `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`,
  );
}

export function assertNoRecipient(recipient: object | undefined): void {
  if (recipient !== undefined) {
    throw new KmsError(
      'UnsupportedOperationException',
      'Recipient (Nitro Enclaves attestation) is not supported by the local KMS.',
    );
  }
}

/** DryRun stops a call that would have succeeded, with the error AWS uses to say so. */
export function stopIfDryRun(dryRun: boolean | undefined): void {
  if (dryRun)
    throw new KmsError(
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
}

/** A stable 64-hex-digit id per key-material version, in the form AWS gives its key material ids. */
export function keyMaterialId(key: KmsKey, version: number): string {
  return createHash('sha256').update(`${key.arn}#${version}`).digest('hex');
}

/** KeyMetadata as AWS returns it: members that do not apply to the key's spec and usage are left out. */
export function keyMetadata(key: KmsKey, store: KeyStore): WireObject {
  const keyState: KeyState = key.state;
  const symmetric = KEY_SPECS[key.keySpec].kind === 'symmetric';
  return {
    AWSAccountId: store.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: epochSeconds(key.creationDate),
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: keyState,
    DeletionDate: key.deletionDate === undefined ? undefined : epochSeconds(key.deletionDate),
    PendingDeletionWindowInDays: key.pendingWindowInDays,
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    EncryptionAlgorithms: listOrUndefined(encryptionAlgorithmsOf(key.keySpec, key.keyUsage)),
    SigningAlgorithms: listOrUndefined(signingAlgorithmsOf(key.keySpec, key.keyUsage)),
    MacAlgorithms: listOrUndefined(macAlgorithmsOf(key.keySpec)),
    MultiRegion: key.multiRegion !== undefined,
    MultiRegionConfiguration: key.multiRegion ? multiRegionConfiguration(key, store) : undefined,
    CurrentKeyMaterialId: symmetric ? keyMaterialId(key, key.materials.length - 1) : undefined,
  };
}

/** The primary and every replica of a multi-Region key, whichever of them is described. */
function multiRegionConfiguration(key: KmsKey, store: KeyStore): WireObject {
  const set = store.multiRegionSet(key);
  const member = (k: KmsKey) => ({ Arn: k.arn, Region: k.region });
  const primary = set.find((k) => k.multiRegion === 'PRIMARY');
  return {
    MultiRegionKeyType: key.multiRegion,
    PrimaryKey: primary ? member(primary) : undefined,
    ReplicaKeys: set.filter((k) => k.multiRegion === 'REPLICA').map(member),
  };
}

function listOrUndefined(values: readonly string[] | undefined): WireValue[] | undefined {
  return values === undefined ? undefined : [...values];
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
