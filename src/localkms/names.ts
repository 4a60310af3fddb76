/** Names AWS gives to regions, accounts, keys and aliases, and the ARNs built from them. */

export { isRegionName, REGION_NAME_PATTERN } from '../shared/region-name.js';

const ACCOUNT_PATTERN = /^\d{12}$/;
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const MULTI_REGION_KEY_ID = 'mrk-[0-9a-fA-F]{32}';
/** A key id as AWS makes them, as a JSON-schema pattern: a UUID, or `mrk-` and 32 hex digits. */
export const KEY_ID_PATTERN = `^(${UUID}|${MULTI_REGION_KEY_ID})$`;
const KEY_ID = new RegExp(KEY_ID_PATTERN, 'i');
const MULTI_REGION_KEY = new RegExp(`^${MULTI_REGION_KEY_ID}$`, 'i');
const KMS_ARN_PATTERN = /^arn:([a-z-]+):kms:([^:]*):([^:]*):(key|alias)\/(.+)$/;

export const DEFAULT_ACCOUNT_ID = '111122223333';

export function isAccountId(value: string): boolean {
  return ACCOUNT_PATTERN.test(value);
}

/** A key id as AWS makes them: a UUID, or `mrk-` and 32 hex digits for a multi-Region key. */
export function isKeyId(value: string): boolean {
  return KEY_ID.test(value);
}

export function isMultiRegionKeyId(value: string): boolean {
  return MULTI_REGION_KEY.test(value);
}

/** The partition of a region, as in its ARNs: `aws-cn` for China, `aws-us-gov` for GovCloud. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export function keyArn(region: string, accountId: string, keyId: string): string {
  return `arn:${partitionOf(region)}:kms:${region}:${accountId}:key/${keyId}`;
}

export function aliasArn(region: string, accountId: string, aliasName: string): string {
  return `arn:${partitionOf(region)}:kms:${region}:${accountId}:${aliasName}`;
}

export interface KmsArn {
  readonly region: string;
  readonly accountId: string;
  readonly resource: 'key' | 'alias';
  /** The key id for a key ARN; the alias name, `alias/` included, for an alias ARN. */
  readonly name: string;
}

export function parseKmsArn(value: string): KmsArn | undefined {
  const match = KMS_ARN_PATTERN.exec(value);
  if (!match) return undefined;
  const [, , region = '', accountId = '', resource, rest = ''] = match;
  return resource === 'key'
    ? { region, accountId, resource: 'key', name: rest }
    : { region, accountId, resource: 'alias', name: `alias/${rest}` };
}
