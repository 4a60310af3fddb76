/** Names AWS gives to regions, accounts, keys and aliases, and the ARNs built from them. */

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT_PATTERN = /^\d{12}$/;
const KEY_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MULTI_REGION_KEY_ID_PATTERN = /^mrk-[0-9a-f]{32}$/i;
const KMS_ARN_PATTERN = /^arn:([a-z-]+):kms:([^:]*):([^:]*):(key|alias)\/(.+)$/;

export const DEFAULT_ACCOUNT_ID = '111122223333';

export function isRegionName(value: string): boolean {
  return REGION_PATTERN.test(value);
}

export function isAccountId(value: string): boolean {
  return ACCOUNT_PATTERN.test(value);
}

/** A key id as AWS makes them: a UUID, or `mrk-` and 32 hex digits for a multi-Region key. */
export function isKeyId(value: string): boolean {
  return KEY_ID_PATTERN.test(value) || MULTI_REGION_KEY_ID_PATTERN.test(value);
}

export function isMultiRegionKeyId(value: string): boolean {
  return MULTI_REGION_KEY_ID_PATTERN.test(value);
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
