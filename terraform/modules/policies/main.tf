# The policy documents of RKMS, as plain data: no provider, so that
# `terraform test` checks them on any machine, offline (tests/).
#
# Every KMS call RKMS makes carries the encryption context {"rkms:id": <id>},
# so a ciphertext copied to another item fails to decrypt instead of handing
# out another id's key. The key policy makes that a property of the keys,
# whoever the caller: a Deny that no IAM policy can override. The service's
# IAM policy narrows the service's own credential further.

terraform {
  required_version = ">= 1.5"
}

locals {
  # Data-key operations whose requests must name an rkms:id. ReEncrypt too,
  # so a ciphertext cannot be moved to a context-free one.
  context_bound_actions = ["kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]

  # True when the request's encryption context has no rkms:id key, including
  # when it has no context at all ("for all" of an empty set holds).
  without_rkms_id = { "ForAllValues:StringNotEquals" = { "kms:EncryptionContextKeys" = "rkms:id" } }

  # Legacy items (the original Go RKMS) were encrypted without any context:
  # with allow_legacy_items, Decrypt without a context stays possible, but a
  # Decrypt whose context lacks rkms:id is still refused.
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
        Sid       = var.allow_legacy_items ? "DenyDecryptWithForeignContext" : "DenyDecryptWithoutRkmsIdContext"
        Effect    = "Deny"
        Principal = "*"
        Action    = "kms:Decrypt"
        Resource  = "*"
        Condition = var.allow_legacy_items ? merge(local.without_rkms_id, local.with_some_context) : local.without_rkms_id
      },
    ]
  }

  # The service's credential: the data-key calls on exactly the RKMS keys,
  # and only with a context whose ONLY key is rkms:id (ForAllValues alone
  # also holds for a request without any context, hence Null = false).
  kms_with_rkms_context = {
    Sid      = "KmsWithRkmsContext"
    Effect   = "Allow"
    Action   = ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"]
    Resource = values(var.key_arns)
    Condition = {
      "ForAllValues:StringEquals" = { "kms:EncryptionContextKeys" = "rkms:id" }
      "Null"                      = { "kms:EncryptionContextKeys" = "false" }
    }
  }

  # Off by default: it lets the credential decrypt any context-free
  # ciphertext of these keys. Decrypt only, and only without a context.
  kms_decrypt_legacy_items = {
    Sid       = "KmsDecryptLegacyItemsWithoutContext"
    Effect    = "Allow"
    Action    = "kms:Decrypt"
    Resource  = values(var.key_arns)
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
      [local.kms_with_rkms_context],
      var.allow_legacy_items ? [local.kms_decrypt_legacy_items] : [],
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
