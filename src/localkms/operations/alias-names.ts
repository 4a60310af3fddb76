import { KmsError } from '../errors.js';

const ALIAS_PREFIX = 'alias/';
const RESERVED_PREFIX = 'alias/aws/';
const ALIAS_CHARACTERS = /^alias\/[a-zA-Z0-9/_-]+$/;

/** Alias names as AWS accepts them for customer keys. */
export function assertAliasName(name: string): void {
  if (!name.startsWith(ALIAS_PREFIX)) {
    throw new KmsError('ValidationException', `Alias must start with the prefix "alias/": ${name}`);
  }
  if (name.startsWith(RESERVED_PREFIX)) {
    throw new KmsError(
      'InvalidAliasNameException',
      `${name}: the prefix alias/aws/ is reserved for AWS managed keys`,
    );
  }
  if (!ALIAS_CHARACTERS.test(name)) {
    throw new KmsError(
      'ValidationException',
      `${name} contains invalid characters for an alias (allowed: letters, digits, / _ -)`,
    );
  }
}
