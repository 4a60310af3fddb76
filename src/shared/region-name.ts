/** An AWS region name such as us-east-1, as a JSON-schema pattern (the config's and the local KMS's). */
export const REGION_NAME_PATTERN = '^[a-z]{2}(-[a-z]+)+-[0-9]+$';

const REGION_NAME = new RegExp(REGION_NAME_PATTERN);

export function isRegionName(value: string): boolean {
  return REGION_NAME.test(value);
}
