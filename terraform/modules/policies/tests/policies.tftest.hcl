# The policy documents, evaluated by Terraform itself. No provider is
# involved, so this runs offline anywhere:
#   terraform -chdir=terraform/modules/policies init -backend=false
#   terraform -chdir=terraform/modules/policies test

variables {
  partition  = "aws"
  account_id = "111122223333"
  key_arns = {
    "us-east-1" = "arn:aws:kms:us-east-1:111122223333:key/aaaa"
    "us-east-2" = "arn:aws:kms:us-east-2:111122223333:key/bbbb"
    "us-west-1" = "arn:aws:kms:us-west-1:111122223333:key/cccc"
  }
  table_arn = "arn:aws:dynamodb:us-east-1:111122223333:table/rkms_keys"
}

run "key_policy_requires_the_rkms_id_context" {
  command = plan

  assert {
    condition     = [for s in jsondecode(output.key_policy_json).Statement : s.Sid] == ["EnableAccountRootAndIamPolicies", "DenyDataKeysWithoutRkmsIdContext", "DenyCopiesWithoutRkmsIdContext"]
    error_message = "the key policy keeps the account in control and denies data-key use without rkms:id"
  }

  assert {
    condition = jsondecode(output.key_policy_json).Statement[1] == {
      Sid       = "DenyDataKeysWithoutRkmsIdContext"
      Effect    = "Deny"
      Principal = "*"
      Action    = ["kms:GenerateDataKey*", "kms:ReEncrypt*"]
      Resource  = "*"
      Condition = { "ForAllValues:StringNotEquals" = { "kms:EncryptionContextKeys" = "rkms:id" } }
    }
    error_message = "GenerateDataKey* and ReEncrypt* without an rkms:id context are denied to every principal"
  }

  assert {
    condition = (
      jsondecode(output.key_policy_json).Statement[2].Action == ["kms:Encrypt", "kms:Decrypt"] &&
      jsondecode(output.key_policy_json).Statement[2].Effect == "Deny" &&
      jsondecode(output.key_policy_json).Statement[2].Principal == "*" &&
      jsondecode(output.key_policy_json).Statement[2].Condition == { "ForAllValues:StringNotEquals" = { "kms:EncryptionContextKeys" = "rkms:id" } }
    )
    error_message = "without legacy items, Encrypt and Decrypt without an rkms:id context are denied, context-free calls included"
  }

  assert {
    condition     = jsondecode(output.key_policy_json).Statement[0].Principal == { AWS = "arn:aws:iam::111122223333:root" }
    error_message = "the account root administers the key"
  }
}

run "service_policy_is_least_privilege" {
  command = plan

  assert {
    condition     = [for s in jsondecode(output.service_policy_json).Statement : s.Sid] == ["KmsWithRkmsContext", "KmsDescribeKeys", "DynamoDbKeyTable"]
    error_message = "by default: the context-bound KMS statement, DescribeKey and the table statement only"
  }

  assert {
    condition = jsondecode(output.service_policy_json).Statement[0].Condition == {
      "ForAllValues:StringEquals" = { "kms:EncryptionContextKeys" = "rkms:id" }
      "Null"                      = { "kms:EncryptionContextKeys" = "false" }
    }
    error_message = "KMS use requires a context whose only key is rkms:id"
  }

  assert {
    condition     = toset(jsondecode(output.service_policy_json).Statement[0].Resource) == toset(values(var.key_arns))
    error_message = "KMS use is limited to the RKMS keys"
  }

  assert {
    condition = (
      jsondecode(output.service_policy_json).Statement[1].Action == "kms:DescribeKey" &&
      toset(jsondecode(output.service_policy_json).Statement[1].Resource) == toset(values(var.key_arns)) &&
      !can(jsondecode(output.service_policy_json).Statement[1].Condition)
    )
    error_message = "DescribeKey (rkms repair --rewrap looks up each region's key ARN) on the RKMS keys only"
  }

  assert {
    condition = (
      !contains(jsondecode(output.service_policy_json).Statement[2].Action, "dynamodb:CreateTable") &&
      jsondecode(output.service_policy_json).Statement[2].Resource == var.table_arn
    )
    error_message = "item access on the home table only, and no CreateTable"
  }

  assert {
    condition     = output.irsa_trust_policy_json == null
    error_message = "no trust policy without an OIDC provider"
  }
}

run "legacy_items_replicas_and_irsa" {
  command = plan

  variables {
    allow_legacy_items = true
    replica_table_arns = ["arn:aws:dynamodb:us-east-2:111122223333:table/rkms_keys"]
    oidc_provider_arn  = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
  }

  assert {
    condition = jsondecode(output.key_policy_json).Statement[2] == {
      Sid       = "DenyCopiesWithForeignContext"
      Effect    = "Deny"
      Principal = "*"
      Action    = ["kms:Encrypt", "kms:Decrypt"]
      Resource  = "*"
      Condition = {
        "ForAllValues:StringNotEquals" = { "kms:EncryptionContextKeys" = "rkms:id" }
        "Null"                         = { "kms:EncryptionContextKeys" = "false" }
      }
    }
    error_message = "with legacy items, context-free Decrypt and Encrypt (repair of a legacy item) are allowed but a context without rkms:id is still denied"
  }

  assert {
    condition     = jsondecode(output.key_policy_json).Statement[1].Condition == { "ForAllValues:StringNotEquals" = { "kms:EncryptionContextKeys" = "rkms:id" } }
    error_message = "legacy items never allow generating a key or re-encrypting without the context"
  }

  assert {
    condition     = [for s in jsondecode(output.service_policy_json).Statement : s.Sid] == ["KmsWithRkmsContext", "KmsDescribeKeys", "KmsLegacyItemsWithoutContext", "DynamoDbKeyTable", "DynamoDbReplicaReads"]
    error_message = "legacy items and replica reads add one statement each"
  }

  assert {
    condition = (
      jsondecode(output.service_policy_json).Statement[2].Action == ["kms:Encrypt", "kms:Decrypt"] &&
      toset(jsondecode(output.service_policy_json).Statement[2].Resource) == toset(values(var.key_arns)) &&
      jsondecode(output.service_policy_json).Statement[2].Condition == { "Null" = { "kms:EncryptionContextKeys" = "true" } }
    )
    error_message = "the legacy statement allows Decrypt (reads) and Encrypt (repair of a legacy item), only without a context, on the current keys"
  }

  assert {
    condition = (
      jsondecode(output.service_policy_json).Statement[4].Action == "dynamodb:GetItem" &&
      jsondecode(output.service_policy_json).Statement[4].Resource == ["arn:aws:dynamodb:us-east-2:111122223333:table/rkms_keys"]
    )
    error_message = "replicas are readable, never writable"
  }

  assert {
    condition = jsondecode(output.irsa_trust_policy_json).Statement[0].Condition == {
      StringEquals = {
        "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE:sub" = "system:serviceaccount:rkms:rkms"
        "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE:aud" = "sts.amazonaws.com"
      }
    }
    error_message = "only the chart's service account may assume the role"
  }
}

run "a_retired_key_stays_decryptable" {
  command = plan

  variables {
    retired_key_arns = ["arn:aws:kms:us-east-1:111122223333:key/old-aaaa"]
  }

  assert {
    condition     = [for s in jsondecode(output.service_policy_json).Statement : s.Sid] == ["KmsWithRkmsContext", "KmsDescribeKeys", "KmsDecryptRetiredKeys", "DynamoDbKeyTable"]
    error_message = "a retired key adds one statement"
  }

  assert {
    condition = jsondecode(output.service_policy_json).Statement[2] == {
      Sid      = "KmsDecryptRetiredKeys"
      Effect   = "Allow"
      Action   = "kms:Decrypt"
      Resource = ["arn:aws:kms:us-east-1:111122223333:key/old-aaaa"]
      Condition = {
        "ForAllValues:StringEquals" = { "kms:EncryptionContextKeys" = "rkms:id" }
        "Null"                      = { "kms:EncryptionContextKeys" = "false" }
      }
    }
    error_message = "the retired key: Decrypt only, with the rkms:id context"
  }

  assert {
    condition     = !contains(jsondecode(output.service_policy_json).Statement[0].Resource, "arn:aws:kms:us-east-1:111122223333:key/old-aaaa")
    error_message = "nothing is generated or encrypted under a retired key"
  }
}

run "a_retired_key_with_legacy_items" {
  command = plan

  variables {
    retired_key_arns   = ["arn:aws:kms:us-east-1:111122223333:key/old-aaaa"]
    allow_legacy_items = true
  }

  assert {
    condition     = jsondecode(output.service_policy_json).Statement[2].Condition == { "ForAllValues:StringEquals" = { "kms:EncryptionContextKeys" = "rkms:id" } }
    error_message = "with legacy items a retired key also decrypts context-free copies, and still no foreign context"
  }
}

run "rejects_a_retired_alias" {
  command = plan

  variables {
    retired_key_arns = ["alias/rkms-us-east-1"]
  }

  expect_failures = [var.retired_key_arns]
}

run "rejects_a_current_key_as_retired" {
  command = plan

  variables {
    retired_key_arns = ["arn:aws:kms:us-east-2:111122223333:key/bbbb"]
  }

  expect_failures = [var.retired_key_arns]
}

run "rejects_no_keys_and_a_malformed_oidc_provider" {
  command = plan

  variables {
    key_arns          = {}
    oidc_provider_arn = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
  }

  expect_failures = [var.key_arns, var.oidc_provider_arn]
}
