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
    condition     = [for s in jsondecode(output.key_policy_json).Statement : s.Sid] == ["EnableAccountRootAndIamPolicies", "DenyDataKeysWithoutRkmsIdContext", "DenyDecryptWithoutRkmsIdContext"]
    error_message = "the key policy keeps the account in control and denies data-key use without rkms:id"
  }

  assert {
    condition = jsondecode(output.key_policy_json).Statement[1] == {
      Sid       = "DenyDataKeysWithoutRkmsIdContext"
      Effect    = "Deny"
      Principal = "*"
      Action    = ["kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
      Resource  = "*"
      Condition = { "ForAllValues:StringNotEquals" = { "kms:EncryptionContextKeys" = "rkms:id" } }
    }
    error_message = "Encrypt, GenerateDataKey* and ReEncrypt* without an rkms:id context are denied to every principal"
  }

  assert {
    condition = (
      jsondecode(output.key_policy_json).Statement[2].Action == "kms:Decrypt" &&
      jsondecode(output.key_policy_json).Statement[2].Effect == "Deny" &&
      jsondecode(output.key_policy_json).Statement[2].Principal == "*" &&
      jsondecode(output.key_policy_json).Statement[2].Condition == { "ForAllValues:StringNotEquals" = { "kms:EncryptionContextKeys" = "rkms:id" } }
    )
    error_message = "without legacy items, Decrypt without an rkms:id context is denied, context-free Decrypt included"
  }

  assert {
    condition     = jsondecode(output.key_policy_json).Statement[0].Principal == { AWS = "arn:aws:iam::111122223333:root" }
    error_message = "the account root administers the key"
  }
}

run "service_policy_is_least_privilege" {
  command = plan

  assert {
    condition     = [for s in jsondecode(output.service_policy_json).Statement : s.Sid] == ["KmsWithRkmsContext", "DynamoDbKeyTable"]
    error_message = "by default: the context-bound KMS statement and the table statement only"
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
      !contains(jsondecode(output.service_policy_json).Statement[1].Action, "dynamodb:CreateTable") &&
      jsondecode(output.service_policy_json).Statement[1].Resource == var.table_arn
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
      Sid       = "DenyDecryptWithForeignContext"
      Effect    = "Deny"
      Principal = "*"
      Action    = "kms:Decrypt"
      Resource  = "*"
      Condition = {
        "ForAllValues:StringNotEquals" = { "kms:EncryptionContextKeys" = "rkms:id" }
        "Null"                         = { "kms:EncryptionContextKeys" = "false" }
      }
    }
    error_message = "with legacy items, context-free Decrypt is allowed but a context without rkms:id is still denied"
  }

  assert {
    condition     = jsondecode(output.key_policy_json).Statement[1].Condition == { "ForAllValues:StringNotEquals" = { "kms:EncryptionContextKeys" = "rkms:id" } }
    error_message = "legacy items never allow generating or encrypting without the context"
  }

  assert {
    condition     = [for s in jsondecode(output.service_policy_json).Statement : s.Sid] == ["KmsWithRkmsContext", "KmsDecryptLegacyItemsWithoutContext", "DynamoDbKeyTable", "DynamoDbReplicaReads"]
    error_message = "legacy decrypt and replica reads add one statement each"
  }

  assert {
    condition = (
      jsondecode(output.service_policy_json).Statement[1].Action == "kms:Decrypt" &&
      jsondecode(output.service_policy_json).Statement[1].Condition == { "Null" = { "kms:EncryptionContextKeys" = "true" } }
    )
    error_message = "the legacy statement allows Decrypt only, and only without a context"
  }

  assert {
    condition = (
      jsondecode(output.service_policy_json).Statement[3].Action == "dynamodb:GetItem" &&
      jsondecode(output.service_policy_json).Statement[3].Resource == ["arn:aws:dynamodb:us-east-2:111122223333:table/rkms_keys"]
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

run "rejects_no_keys_and_a_malformed_oidc_provider" {
  command = plan

  variables {
    key_arns          = {}
    oidc_provider_arn = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
  }

  expect_failures = [var.key_arns, var.oidc_provider_arn]
}
