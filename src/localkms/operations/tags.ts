import { KmsError } from '../errors.js';

const MAX_TAGS_PER_KEY = 50;

/** Checks tags as AWS does: key 1–128 characters, value 0–256, no `aws:` prefix. Later duplicates win. */
export function validTags(
  tags: readonly { TagKey: string; TagValue: string }[] | undefined,
): Map<string, string> {
  const result = new Map<string, string>();
  for (const { TagKey, TagValue } of tags ?? []) {
    if (TagKey.length < 1 || TagKey.length > 128)
      throw new KmsError('TagException', `Tag key must be 1 to 128 characters: '${TagKey}'`);
    if (TagValue.length > 256)
      throw new KmsError('TagException', `Tag value of '${TagKey}' must be at most 256 characters`);
    if (TagKey.toLowerCase().startsWith('aws:')) {
      throw new KmsError(
        'TagException',
        `Tag key '${TagKey}' is invalid: the aws: prefix is reserved for AWS`,
      );
    }
    result.set(TagKey, TagValue);
  }
  return result;
}

export function assertTagLimit(count: number): void {
  if (count > MAX_TAGS_PER_KEY) {
    throw new KmsError('LimitExceededException', `A KMS key can have at most ${MAX_TAGS_PER_KEY} tags`);
  }
}
