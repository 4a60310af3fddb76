import { createRequire } from 'node:module';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The Terraform in terraform/, read with an HCL parser, so this runs where no terraform
 * binary and no AWS provider exist. Where terraform is installed, `npm run test:terraform`
 * also has terraform itself evaluate the policy module (it needs no provider).
 */

type Dict = Record<string, unknown>;

// Loaded untyped on purpose: the package's type declarations pull the DOM lib into the
// whole program, which changes the types of fetch() for every other test.
const { parse } = createRequire(import.meta.url)('@cdktf/hcl2json') as {
  parse: (fileName: string, contents: string) => Promise<unknown>;
};

const TF_DIR = path.resolve(import.meta.dirname, '../../terraform');
const POLICIES_DIR = path.join(TF_DIR, 'modules/policies');

/** All .tf files of a directory, merged the way Terraform sees one module. */
async function parseModule(dir: string): Promise<Dict> {
  const merged: Dict = {};
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.tf')).sort()) {
    const blocks = (await parse(file, await readFile(path.join(dir, file), 'utf8'))) as Dict;
    for (const [kind, content] of Object.entries(blocks)) {
      merged[kind] =
        kind === 'locals' || kind === 'moved'
          ? [...list(merged[kind]), ...list(content)]
          : { ...(merged[kind] as Dict), ...(content as Dict) };
    }
  }
  return merged;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

/** The one block `resource "type" "name"` (hcl2json wraps each block in a list). */
function block(mod: Dict, kind: string, type: string, name: string): Dict {
  const blocks = ((mod[kind] as Dict | undefined)?.[type] as Dict | undefined)?.[name];
  expect(blocks, `${kind} ${type}.${name}`).toHaveLength(1);
  return only(blocks);
}

/** The one block `variable "name"` / `module "name"`. */
function named(mod: Dict, kind: string, name: string): Dict {
  const blocks = (mod[kind] as Dict | undefined)?.[name];
  expect(blocks, `${kind} ${name}`).toHaveLength(1);
  return only(blocks);
}

function only(blocks: unknown): Dict {
  const [first] = blocks as Dict[];
  if (first === undefined) throw new Error('no block');
  return first;
}

function locals(mod: Dict): Dict {
  return Object.assign({}, ...(mod.locals as Dict[])) as Dict;
}

let root: Dict;
let policies: Dict;
beforeAll(async () => {
  root = await parseModule(TF_DIR);
  policies = await parseModule(POLICIES_DIR);
});

describe('terraform/: one for_each over the regions', () => {
  it('has one AWS provider, no per-region aliases, and needs a provider with per-resource region', () => {
    const providers = (root.provider as Dict).aws as Dict[];
    expect(providers).toHaveLength(1);
    expect(providers[0]).not.toHaveProperty('alias');
    expect(providers[0]?.region).toBe('${var.primary_region}');
    const required = ((root.terraform as Dict[])[0]?.required_providers as Dict[])[0]?.aws as Dict;
    expect(required.version).toBe('>= 6.9');
  });

  it('makes every KMS key and alias from the regions list, in its own region', () => {
    const resources = root.resource as Dict;
    expect(Object.keys(resources.aws_kms_key as Dict)).toEqual(['rkms']);
    expect(Object.keys(resources.aws_kms_alias as Dict)).toEqual(['rkms']);
    const key = block(root, 'resource', 'aws_kms_key', 'rkms');
    expect(key).toMatchObject({
      for_each: '${toset(var.regions)}',
      region: '${each.key}',
      enable_key_rotation: true,
      policy: '${module.policies.key_policy_json}',
    });
    expect(key.lifecycle).toEqual([{ prevent_destroy: true }]);
    expect(block(root, 'resource', 'aws_kms_alias', 'rkms')).toMatchObject({
      for_each: '${aws_kms_key.rkms}',
      region: '${each.key}',
      name: 'alias/rkms-${each.key}',
    });
    const variable = named(root, 'variable', 'regions');
    expect(variable.default).toEqual(['us-east-1', 'us-east-2', 'us-west-1']);
  });

  it('moves the keys of the old per-region layout instead of replacing them', () => {
    const moves = (root.moved as Dict[]).map((m) => `${String(m.from)} -> ${String(m.to)}`);
    expect(moves).toContain('${aws_kms_key.us_east_1[0]} -> ${aws_kms_key.rkms["us-east-1"]}');
    expect(moves).toHaveLength(6);
  });

  it('replicates the table to the other KMS regions, as protected as the table', () => {
    const table = block(root, 'resource', 'aws_dynamodb_table', 'keys');
    expect(table).toMatchObject({
      region: '${var.primary_region}',
      deletion_protection_enabled: true,
      hash_key: 'id',
    });
    expect(table.point_in_time_recovery).toEqual([{ enabled: true }]);
    const replica = only((table.dynamic as Dict).replica);
    expect(replica.for_each).toBe('${local.table_replica_regions}');
    expect((replica.content as Dict[])[0]).toEqual({
      region_name: '${replica.value}',
      point_in_time_recovery: true,
      deletion_protection_enabled: true,
      propagate_tags: true,
    });
    expect(String(locals(root).table_replica_regions)).toMatch(
      /var\.table_replica_regions != null \? var\.table_replica_regions : \[\s*for r in var\.regions : r if r != var\.primary_region\s*\]/,
    );
  });

  it('passes the policy module its inputs and creates the IRSA role only when asked', () => {
    const mod = named(root, 'module', 'policies');
    expect(mod).toMatchObject({
      source: './modules/policies',
      key_arns: '${local.key_arns}',
      allow_legacy_items: '${var.allow_legacy_items}',
      replica_table_arns: '${local.replica_table_arns}',
    });
    expect(block(root, 'resource', 'aws_iam_role', 'service').count).toBe(
      '${var.eks_oidc_provider_arn == null ? 0 : 1}',
    );
    expect(block(root, 'resource', 'aws_iam_policy', 'service').policy).toBe(
      '${module.policies.service_policy_json}',
    );
  });
});

describe('terraform/modules/policies: the rkms:id context is required', () => {
  it('denies data-key use without an rkms:id context to every principal in the key policy', () => {
    const l = locals(policies);
    expect(l.context_bound_actions).toEqual(['kms:GenerateDataKey*', 'kms:ReEncrypt*']);
    expect(l.copy_actions).toEqual(['kms:Encrypt', 'kms:Decrypt']);
    expect(l.without_rkms_id).toEqual({
      'ForAllValues:StringNotEquals': { 'kms:EncryptionContextKeys': 'rkms:id' },
    });
    expect(l.with_some_context).toEqual({ Null: { 'kms:EncryptionContextKeys': 'false' } });
    const [admin, dataKeys, copies] = (l.key_policy as Dict).Statement as Dict[];
    expect(admin).toMatchObject({ Effect: 'Allow', Action: 'kms:*' });
    expect(admin?.Principal).toEqual({ AWS: 'arn:${var.partition}:iam::${var.account_id}:root' });
    // New keys and re-encryption: never without rkms:id, legacy items or not.
    expect(dataKeys).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Action: '${local.context_bound_actions}',
      Condition: '${local.without_rkms_id}',
    });
    // Encrypt and Decrypt of copies: denied without rkms:id; only allow_legacy_items adds
    // "and with some context", so that legacy items are read and repaired context-free.
    expect(copies).toMatchObject({ Effect: 'Deny', Principal: '*', Action: '${local.copy_actions}' });
    expect(copies?.Condition).toBe(
      '${var.allow_legacy_items ? merge(local.without_rkms_id, local.with_some_context) : local.without_rkms_id}',
    );
  });

  it('gives the service least privilege: KMS calls bound to the context, item operations on the table', () => {
    const l = locals(policies);
    expect(l.rkms_id_or_no_context).toEqual({
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': 'rkms:id' },
    });
    expect(l.only_rkms_id).toBe('${merge(local.rkms_id_or_no_context, local.with_some_context)}');
    expect(l.kms_with_rkms_context).toMatchObject({
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt'],
      Resource: '${local.current_key_arns}',
      Condition: '${local.only_rkms_id}',
    });
    expect(l.current_key_arns).toBe('${values(var.key_arns)}');
    // `rkms repair --rewrap` looks up each region's key ARN.
    expect(l.kms_describe_keys).toEqual({
      Sid: 'KmsDescribeKeys',
      Effect: 'Allow',
      Action: 'kms:DescribeKey',
      Resource: '${local.current_key_arns}',
    });
    // A region's previous keys: Decrypt only, so that old copies stay readable until rewrapped.
    expect(l.kms_decrypt_retired_keys).toMatchObject({
      Action: 'kms:Decrypt',
      Resource: '${var.retired_key_arns}',
      Condition: '${var.allow_legacy_items ? local.rkms_id_or_no_context : local.only_rkms_id}',
    });
    // Legacy items: read (Decrypt) and repaired (Encrypt) without any context, on the current keys.
    expect(l.kms_legacy_items).toMatchObject({
      Action: ['kms:Encrypt', 'kms:Decrypt'],
      Resource: '${local.current_key_arns}',
      Condition: { Null: { 'kms:EncryptionContextKeys': 'true' } },
    });
    const table = l.dynamodb_key_table as Dict;
    expect(table.Resource).toBe('${var.table_arn}');
    for (const action of table.Action as string[])
      expect(action).toMatch(/^dynamodb:(Get|Put|Update|Delete)Item$|^dynamodb:(Scan|DescribeTable)$/);
    expect(l.dynamodb_replica_reads).toMatchObject({
      Action: 'dynamodb:GetItem',
      Resource: '${var.replica_table_arns}',
    });
    const statements = String((l.service_policy as Dict).Statement);
    expect(statements).toContain('[local.kms_with_rkms_context, local.kms_describe_keys]');
    expect(statements).toContain('length(var.retired_key_arns) > 0 ? [local.kms_decrypt_retired_keys] : []');
    expect(statements).toContain('var.allow_legacy_items ? [local.kms_legacy_items] : []');
    // No wildcard action anywhere but the account root's administration of its keys.
    const allowed = Object.values(l).filter(
      (v): v is Dict => typeof v === 'object' && v !== null && 'Effect' in v,
    );
    const keyPolicyStatements = (l.key_policy as Dict).Statement as Dict[];
    for (const st of [...allowed, ...keyPolicyStatements]) {
      if (st.Effect === 'Allow' && JSON.stringify(st.Action).includes('*'))
        expect(st.Sid).toBe('EnableAccountRootAndIamPolicies');
    }
  });

  it('takes retired keys as key ARNs only, from the root module', () => {
    const variable = named(policies, 'variable', 'retired_key_arns');
    expect(variable.default).toEqual([]);
    expect(JSON.stringify(variable.validation)).toContain(':key/');
    expect(named(root, 'module', 'policies').retired_key_arns).toBe('${var.retired_kms_key_arns}');
    expect(named(root, 'variable', 'retired_kms_key_arns').default).toEqual([]);
  });
});
