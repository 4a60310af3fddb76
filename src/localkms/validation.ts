import type { TSchema, Static } from 'typebox';
import { Value } from 'typebox/value';
import { KmsError } from './errors.js';

/**
 * Checks a request body against an operation's schema and fails the way AWS
 * does: a value of the wrong JSON type is a SerializationException, a value
 * outside its constraints a ValidationException phrased as AWS phrases it.
 * Values of fields that can carry key material never appear in a message.
 */

const SECRET_FIELDS = new Set(['Plaintext', 'Message', 'Mac']);
const MAX_REPORTED = 3;

interface SchemaError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly params: Record<string, unknown>;
  readonly message: string;
}

export function parseInput<S extends TSchema>(schema: S, body: unknown): Static<S> {
  if (Value.Check(schema, body)) return body;
  const errors = Value.Errors(schema, body) as unknown as SchemaError[];
  const typeError = errors.find((error) => error.keyword === 'type');
  if (typeError) throw serializationError(typeError, body);
  const constraints = errors.flatMap((error) => constraintMessages(error, body)).slice(0, MAX_REPORTED);
  const count = constraints.length;
  throw new KmsError(
    'ValidationException',
    `${count} validation error${count === 1 ? '' : 's'} detected: ${constraints.join('; ')}`,
  );
}

function serializationError(error: SchemaError, body: unknown): KmsError {
  const expected = typeof error.params.type === 'string' ? error.params.type : 'another type';
  const value = valueAt(body, error.instancePath);
  const where = error.instancePath === '' ? 'the request body' : `'${fieldPath(error.instancePath)}'`;
  return new KmsError(
    'SerializationException',
    `${jsonKind(value)} can not be converted to ${article(expected)} at ${where}`,
  );
}

function constraintMessages(error: SchemaError, body: unknown): string[] {
  if (error.keyword === 'required') {
    const missing = (error.params.requiredProperties as string[] | undefined) ?? [];
    return missing.map(
      (name) =>
        `Value null at '${fieldPath(`${error.instancePath}/${name}`)}' failed to satisfy constraint: ` +
        `Member must not be null`,
    );
  }
  const constraint = constraintText(error);
  if (!constraint) return [];
  const path = fieldPath(error.instancePath);
  const value = valueAt(body, error.instancePath);
  const shown = isSecretPath(error.instancePath) || !isScalar(value) ? '' : ` '${String(value)}'`;
  return [`Value${shown} at '${path}' failed to satisfy constraint: Member must ${constraint}`];
}

function constraintText(error: SchemaError): string | undefined {
  const limit = error.params.limit;
  switch (error.keyword) {
    case 'minimum':
      return `have value greater than or equal to ${String(limit)}`;
    case 'maximum':
      return `have value less than or equal to ${String(limit)}`;
    case 'minLength':
    case 'minItems':
    case 'minProperties':
      return `have length greater than or equal to ${String(limit)}`;
    case 'maxLength':
    case 'maxItems':
    case 'maxProperties':
      return `have length less than or equal to ${String(limit)}`;
    case 'enum':
      return `satisfy enum value set: [${listText(error.params.allowedValues)}]`;
    case 'pattern': {
      const pattern = isScalar(error.params.pattern) ? String(error.params.pattern) : '';
      return `satisfy regular expression pattern: ${pattern}`;
    }
    case 'additionalProperties':
    case 'anyOf':
    case 'const':
      return undefined;
    default:
      return error.message;
  }
}

/** `/Tags/0/TagKey` → `tags.1.member.tagKey`, the way AWS names a member in a message. */
function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .filter((part) => part !== '')
    .map((part) =>
      /^\d+$/.test(part) ? `${Number(part) + 1}.member` : part.charAt(0).toLowerCase() + part.slice(1),
    )
    .join('.');
}

function isSecretPath(instancePath: string): boolean {
  return instancePath.split('/').some((part) => SECRET_FIELDS.has(part));
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function listText(values: unknown): string {
  return Array.isArray(values) ? values.filter(isScalar).map(String).join(', ') : '';
}

function valueAt(body: unknown, instancePath: string): unknown {
  let value = body;
  for (const part of instancePath.split('/').filter((p) => p !== '')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function jsonKind(value: unknown): string {
  if (value === null) return 'NULL_VALUE';
  if (Array.isArray(value)) return 'START_ARRAY';
  switch (typeof value) {
    case 'string':
      return 'STRING_VALUE';
    case 'number':
      return Number.isInteger(value) ? 'NUMBER_VALUE' : 'DECIMAL_VALUE';
    case 'boolean':
      return 'BOOLEAN_VALUE';
    case 'object':
      return 'START_OBJECT';
    default:
      return 'VALUE';
  }
}

function article(type: string): string {
  const names: Record<string, string> = {
    string: 'a String',
    integer: 'an Integer',
    number: 'a Number',
    boolean: 'a Boolean',
    object: 'a structure or map',
    array: 'a list',
  };
  return names[type] ?? type;
}
