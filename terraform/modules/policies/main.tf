# The policy documents of RKMS, as plain data: no provider, so that
# `terraform test` checks them on any machine, offline (tests/).
#
# Every KMS call RKMS makes carries the encryption context {"rkms:id": <id>}
# (only the original Go RKMS's items, with allow_legacy_items, have none), so a
# ciphertext copied to another item fails to decrypt instead of handing out
# another id's key. The key policy makes that a property of the keys,
# whoever the caller: a Deny that no IAM policy can override. The service's
# IAM policy narrows the service's own credential further.

terraform {
  required_version = ">= 1.5"
}

locals {
  # Operations whose requests must name an rkms:id, always: RKMS generates every new key
  # bound to its id and never re-encrypts, so no legitimate call lacks the context.
  context_bound_actions = ["kms:GenerateDataKey*", "kms:ReEncrypt*"]

  # Operations on copies. Bound to rkms:id as well, except that with allow_legacy_items
  # a request without any context is let through: the original Go RKMS's items carry no
  # context, RKMS decrypts them without one, and `rkms repair` gives such an item its
  # missing copy (Encrypt) in the same context-free form.
  copy_actions = ["kms:Encrypt", "kms:Decrypt"]

  # True when the request's encryption context has no rkms:id key, including
  # when it has no context at all ("for all" of an empty set holds).
  without_rkms_id = { "ForAllValues:StringNotEquals" = { "kms:EncryptionContextKeys" = "rkms:id" } }

  # With allow_legacy_items only a request that has a context, and not rkms:id in it, is
  # denied: a copy can still never be made or opened under another context.
  with_some_context = { "Null" = { "kms:EncryptionContextKeys" = "false" } }

  key_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        # The account keeps the key manageable and lets IAM policies grant its
        # use (the service's comes from service_policy below). Without this
        # statement the key could become unmanageable.
        Sid       = "EnableAccountRootAndIamPolicies"
        Effect    = "Allow"
        Principal = { AWS = "arn:${var.partition}:iam::${var.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "DenyDataKeysWithoutRkmsIdContext"
        Effect    = "Deny"
        Principal = "*"
        Action    = local.context_bound_actions
        Resource  = "*"
        Condition = local.without_rkms_id
      },
      {
        Sid       = var.allow_legacy_items ? "DenyCopiesWithForeignContext" : "DenyCopiesWithoutRkmsIdContext"
        Effect    = "Deny"
        Principal = "*"
        Action    = local.copy_actions
        Resource  = "*"
        Condition = var.allow_legacy_items ? merge(local.without_rkms_id, local.with_some_context) : local.without_rkms_id
      },
    ]
  }

  current_key_arns = values(var.key_arns)

  # No context key but rkms:id; this also holds for a request without any context...
  rkms_id_or_no_context = { "ForAllValues:StringEquals" = { "kms:EncryptionContextKeys" = "rkms:id" } }
  # ...hence, for a context whose ONLY key is rkms:id, Null = false too.
  only_rkms_id = merge(local.rkms_id_or_no_context, local.with_some_context)

  # The service's credential: the data-key calls on exactly the RKMS keys, and only
  # with the rkms:id context.
  kms_with_rkms_context = {
    Sid       = "KmsWithRkmsContext"
    Effect    = "Allow"
    Action    = ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"]
    Resource  = local.current_key_arns
    Condition = local.only_rkms_id
  }

  # `rkms repair --rewrap` compares the key that made each copy with the region's
  # configured key, whose ARN it asks DescribeKey for (key_ids may be aliases).
  # DescribeKey takes no encryption context; it reveals no key material.
  kms_describe_keys = {
    Sid      = "KmsDescribeKeys"
    Effect   = "Allow"
    Action   = "kms:DescribeKey"
    Resource = local.current_key_arns
  }

  # Keys a region used before its current one: copies made under them stay readable
  # (RKMS falls back to another region's copy and rewraps; `rkms repair --rewrap`
  # moves them all) until they are removed from retired_key_arns. Decrypt only.
  kms_decrypt_retired_keys = {
    Sid       = "KmsDecryptRetiredKeys"
    Effect    = "Allow"
    Action    = "kms:Decrypt"
    Resource  = var.retired_key_arns
    Condition = var.allow_legacy_items ? local.rkms_id_or_no_context : local.only_rkms_id
  }

  # Off by default: it lets the credential decrypt any context-free ciphertext of
  # these keys. Decrypt (reading legacy items) and Encrypt (repair adding a legacy
  # item's missing copy), only without a context.
  kms_legacy_items = {
    Sid       = "KmsLegacyItemsWithoutContext"
    Effect    = "Allow"
    Action    = ["kms:Encrypt", "kms:Decrypt"]
    Resource  = local.current_key_arns
    Condition = { "Null" = { "kms:EncryptionContextKeys" = "true" } }
  }

  # Reads and conditional writes in the home region only. GetItem: reads;
  # PutItem: create (attribute_not_exists); UpdateItem: versioned deletion,
  # restore and repair; DeleteItem: purge; Scan: `rkms sweep` and
  # `rkms repair`; DescribeTable: the table check at start. No CreateTable:
  # production tables come from Terraform.
  dynamodb_key_table = {
    Sid    = "DynamoDbKeyTable"
    Effect = "Allow"
    Action = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Scan",
      "dynamodb:DescribeTable",
    ]
    Resource = var.table_arn
  }

  # Replicas of the global table serve reads ([dynamodb] read_region), never
  # writes: a global table resolves concurrent writes in two regions as
  # last-writer-wins, which could replace one data key with another.
  dynamodb_replica_reads = {
    Sid      = "DynamoDbReplicaReads"
    Effect   = "Allow"
    Action   = "dynamodb:GetItem"
    Resource = var.replica_table_arns
  }

  service_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [local.kms_with_rkms_context, local.kms_describe_keys],
      length(var.retired_key_arns) > 0 ? [local.kms_decrypt_retired_keys] : [],
      var.allow_legacy_items ? [local.kms_legacy_items] : [],
      [local.dynamodb_key_table],
      length(var.replica_table_arns) > 0 ? [local.dynamodb_replica_reads] : [],
    )
  }

  # IRSA: only the chart's service account, in its namespace, may assume the role.
  oidc_host = var.oidc_provider_arn == null ? null : element(split("oidc-provider/", var.oidc_provider_arn), 1)
  irsa_trust_policy = var.oidc_provider_arn == null ? null : {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "KubernetesServiceAccount"
      Effect    = "Allow"
      Principal = { Federated = var.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.oidc_host}:sub" = "system:serviceaccount:${var.kubernetes_namespace}:${var.kubernetes_service_account}"
          "${local.oidc_host}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  }
}
