# The service's least-privilege policy: the three KMS calls on exactly the RKMS
# keys, and the item operations it makes on exactly the RKMS table.
data "aws_iam_policy_document" "service" {
  # Every KMS call RKMS makes carries the encryption context {"rkms:id": <id>}.
  # The two conditions together require a context whose only key is rkms:id:
  #  - ForAllValues:StringEquals: every context key in the request is rkms:id.
  #    On its own it is also true when the request has NO context (an empty
  #    set satisfies "for all"), so
  #  - Null = false: the request must carry context keys at all.
  # The credential is thus good for RKMS-shaped calls only: it cannot decrypt
  # ciphertexts of these keys made without a context or with any other
  # context, nor produce such ciphertexts (the id value itself is free).
  statement {
    sid       = "KmsWithRkmsContext"
    effect    = "Allow"
    actions   = ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"]
    resources = values(local.key_arns)

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "kms:EncryptionContextKeys"
      values   = ["rkms:id"]
    }

    condition {
      test     = "Null"
      variable = "kms:EncryptionContextKeys"
      values   = ["false"]
    }
  }

  # Items written by the original Go RKMS ({id, keys} without ctx) were
  # encrypted with no encryption context and can only be decrypted without
  # one. This statement allows exactly that, Decrypt only and only when the
  # request has no context (Null = true), so new keys are never generated or
  # encrypted without the context. It is off by default because it lets the
  # credential decrypt any context-free ciphertext of these keys.
  # Note: the service passes the configured key id to Decrypt, so legacy items
  # decrypt only if these keys are the ones the old table was written with
  # (bring them under this configuration with `import` blocks; see README).
  dynamic "statement" {
    for_each = var.allow_legacy_items ? [1] : []
    content {
      sid       = "KmsDecryptLegacyItemsWithoutContext"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = values(local.key_arns)

      condition {
        test     = "Null"
        variable = "kms:EncryptionContextKeys"
        values   = ["true"]
      }
    }
  }

  # Reads and conditional writes go to the home-region table only.
  # GetItem: reads and the readiness check; PutItem: create (attribute_not_exists);
  # UpdateItem/DeleteItem: versioned deletion scheduling, restore and purge;
  # Scan: `rkms sweep`; DescribeTable: the table check of create_table/tools.
  # CreateTable is deliberately absent: production tables come from here.
  statement {
    sid    = "DynamoDbKeyTable"
    effect = "Allow"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Scan",
      "dynamodb:DescribeTable",
    ]
    resources = [aws_dynamodb_table.keys.arn]
  }

  # Replicas of a global table may serve reads ([dynamodb] read_region), never
  # writes: concurrent writes in two regions are resolved last-writer-wins and
  # could replace one data key with another.
  dynamic "statement" {
    for_each = length(local.replica_table_arns) > 0 ? [1] : []
    content {
      sid       = "DynamoDbReplicaReads"
      effect    = "Allow"
      actions   = ["dynamodb:GetItem"]
      resources = local.replica_table_arns
    }
  }
}

resource "aws_iam_policy" "service" {
  name        = var.policy_name
  description = "RKMS service: KMS data-key operations bound to the rkms:id encryption context, and item access to the ${var.table_name} table"
  policy      = data.aws_iam_policy_document.service.json
}

resource "aws_iam_role_policy_attachment" "service" {
  count = var.service_role_name == null ? 0 : 1

  role       = var.service_role_name
  policy_arn = aws_iam_policy.service.arn
}
