import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

/**
 * What is wrong with a value, as one line per problem that names the field (dotted),
 * what it must be and what it was: for configs, seed files and fault rules alike.
 */
export function describeSchemaErrors(schema: TSchema, value: unknown, limit = Infinity): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const error of Value.Errors(schema, value) as Iterable<SchemaError>) {
    const problem = describeError(error, schema, value);
    if (problem && !seen.has(problem)) {
      seen.add(problem);
      problems.push(problem);
    }
    if (problems.length >= limit) break;
  }
  return problems;
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message: string;
}

function describeError(error: SchemaError, schema: TSchema, root: unknown): string | undefined {
  const field = error.instancePath.split('/').filter(Boolean).join('.');
  const at = (name: string) => (field ? `${field}.${name}` : name);
  const got = JSON.stringify(valueAt(root, error.instancePath));
  switch (error.keyword) {
    case 'required':
      return (error.params.requiredProperties as string[]).map((p) => `${at(p)}: is required`).join('; ');
    case 'additionalProperties':
      return (error.params.additionalProperties as string[])
        .map((p) => `${at(p)}: unknown setting (check its spelling and section)`)
        .join('; ');
    case 'boolean':
      return undefined; // the additionalProperties error above already names the key
    case 'enum':
      return `${field}: must be one of ${(error.params.allowedValues as string[]).join(', ')} (got ${got})`;
    case 'pattern': {
      const description = schemaAt(schema, error.schemaPath)?.description;
      return `${field}: must be ${description ?? `a string matching ${String(error.params.pattern)}`} (got ${got})`;
    }
    default:
      return `${field || '(top)'}: ${error.message} (got ${got})`;
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const part of pointer.split('/').filter(Boolean)) {
    node = (node as Record<string, unknown> | undefined)?.[part];
  }
  return node;
}

function schemaAt(schema: TSchema, pointer: string): { description?: string } | undefined {
  let node: unknown = schema;
  for (const part of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    node = (node as Record<string, unknown> | undefined)?.[part];
  }
  return node as { description?: string } | undefined;
}
