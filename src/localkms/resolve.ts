import { KmsError } from './errors.js';
import type { KeyStore } from './keystore.js';
import type { KmsAlias, KmsKey } from './kms-key.js';
import { aliasArn, isKeyId, keyArn, parseKmsArn } from './names.js';

/**
 * Finds the key a request names. Some operations take only a key id or key
 * ARN; the cryptographic ones and DescribeKey also take an alias name or alias
 * ARN. A key or alias of another region is not found, as in AWS.
 */
export type KeyReference = 'key' | 'key-or-alias';

export function resolveKey(store: KeyStore, region: string, ref: string, accepts: KeyReference): KmsKey {
  if (ref.startsWith('arn:')) return resolveArn(store, region, ref, accepts);
  if (ref.startsWith('alias/')) {
    if (accepts === 'key') throw notAnAliasOperation(ref);
    return keyOfAlias(store, region, requireAlias(store, region, ref));
  }
  if (!isKeyId(ref)) throw new KmsError('NotFoundException', `Invalid keyId ${ref}`);
  return requireKey(store, region, ref);
}

/** The alias of this region named by an alias name or alias ARN. */
export function requireAlias(store: KeyStore, region: string, aliasName: string): KmsAlias {
  const alias = store.liveAlias(region, aliasName);
  if (!alias)
    throw new KmsError(
      'NotFoundException',
      `Alias ${aliasArn(region, store.accountId, aliasName)} is not found.`,
    );
  return alias;
}

function resolveArn(store: KeyStore, region: string, ref: string, accepts: KeyReference): KmsKey {
  const arn = parseKmsArn(ref);
  if (!arn) throw new KmsError('InvalidArnException', `Invalid arn ${ref}`);
  if (arn.resource === 'alias' && accepts === 'key') throw notAnAliasOperation(ref);
  if (arn.region !== region || arn.accountId !== store.accountId) {
    throw new KmsError(
      'NotFoundException',
      `${arn.resource === 'key' ? 'Key' : 'Alias'} '${ref}' does not exist in account ` +
        `${store.accountId}, region ${region}: a KMS key is usable only in its own region`,
    );
  }
  if (arn.resource === 'alias') return keyOfAlias(store, region, requireAlias(store, region, arn.name));
  if (!isKeyId(arn.name)) throw new KmsError('NotFoundException', `Invalid keyId ${ref}`);
  return requireKey(store, region, arn.name);
}

function requireKey(store: KeyStore, region: string, keyId: string): KmsKey {
  const key = store.liveKey(region, keyId);
  if (!key)
    throw new KmsError(
      'NotFoundException',
      `Key '${keyArn(region, store.accountId, keyId.toLowerCase())}' does not exist`,
    );
  return key;
}

function keyOfAlias(store: KeyStore, region: string, alias: KmsAlias): KmsKey {
  return requireKey(store, region, alias.targetKeyId);
}

function notAnAliasOperation(ref: string): KmsError {
  return new KmsError(
    'NotFoundException',
    `Invalid keyId ${ref}: this operation takes a key ID or key ARN, not an alias`,
  );
}
