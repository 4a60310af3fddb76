import { cancelKeyDeletion } from './cancel-key-deletion.js';
import { createAlias } from './create-alias.js';
import { createKey } from './create-key.js';
import { decrypt } from './decrypt.js';
import { deleteAlias } from './delete-alias.js';
import { describeKey } from './describe-key.js';
import { disableKeyRotation } from './disable-key-rotation.js';
import { disableKey } from './disable-key.js';
import { enableKeyRotation } from './enable-key-rotation.js';
import { enableKey } from './enable-key.js';
import { encrypt } from './encrypt.js';
import { generateDataKeyPairWithoutPlaintext } from './generate-data-key-pair-without-plaintext.js';
import { generateDataKeyPair } from './generate-data-key-pair.js';
import { generateDataKeyWithoutPlaintext } from './generate-data-key-without-plaintext.js';
import { generateDataKey } from './generate-data-key.js';
import { generateMac } from './generate-mac.js';
import { generateRandom } from './generate-random.js';
import { getPublicKey } from './get-public-key.js';
import { getKeyRotationStatus } from './get-key-rotation-status.js';
import { listAliases } from './list-aliases.js';
import { listKeyRotations } from './list-key-rotations.js';
import { listKeys } from './list-keys.js';
import { listResourceTags } from './list-resource-tags.js';
import type { Operation } from './operation.js';
import { reEncrypt } from './re-encrypt.js';
import { replicateKey } from './replicate-key.js';
import { rotateKeyOnDemand } from './rotate-key-on-demand.js';
import { scheduleKeyDeletion } from './schedule-key-deletion.js';
import { sign } from './sign.js';
import { tagResource } from './tag-resource.js';
import { untagResource } from './untag-resource.js';
import { updateAlias } from './update-alias.js';
import { updateKeyDescription } from './update-key-description.js';
import { updatePrimaryRegion } from './update-primary-region.js';
import { verifyMac } from './verify-mac.js';
import { verify } from './verify.js';

export type { Operation, OperationContext, WireObject } from './operation.js';

/** The operations the local KMS implements, by the name in `X-Amz-Target: TrentService.<name>`. */
export const OPERATIONS: ReadonlyMap<string, Operation> = new Map(
  [
    cancelKeyDeletion,
    createAlias,
    createKey,
    decrypt,
    deleteAlias,
    describeKey,
    disableKey,
    disableKeyRotation,
    enableKey,
    enableKeyRotation,
    encrypt,
    generateDataKey,
    generateDataKeyPair,
    generateDataKeyPairWithoutPlaintext,
    generateDataKeyWithoutPlaintext,
    generateMac,
    generateRandom,
    getKeyRotationStatus,
    getPublicKey,
    listAliases,
    listKeyRotations,
    listKeys,
    listResourceTags,
    reEncrypt,
    replicateKey,
    rotateKeyOnDemand,
    scheduleKeyDeletion,
    sign,
    tagResource,
    untagResource,
    updateAlias,
    updateKeyDescription,
    updatePrimaryRegion,
    verify,
    verifyMac,
  ].map((operation) => [operation.name, operation]),
);

/**
 * The rest of the AWS KMS API: a call to one of these is answered with
 * UnsupportedOperationException, a name outside the API with
 * UnknownOperationException, so a user can tell "not emulated" from a typo.
 */
export const UNSUPPORTED_AWS_OPERATIONS: ReadonlySet<string> = new Set([
  'ConnectCustomKeyStore',
  'CreateCustomKeyStore',
  'CreateGrant',
  'Decapsulate',
  'DeleteCustomKeyStore',
  'DeleteImportedKeyMaterial',
  'DeriveSharedSecret',
  'DescribeCustomKeyStores',
  'DisconnectCustomKeyStore',
  'Encapsulate',
  'GetKeyLastUsage',
  'GetKeyPolicy',
  'GetParametersForImport',
  'ImportKeyMaterial',
  'ListGrants',
  'ListKeyPolicies',
  'ListRetirableGrants',
  'PutKeyPolicy',
  'RetireGrant',
  'RevokeGrant',
  'UpdateCustomKeyStore',
]);
