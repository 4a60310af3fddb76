# Offline check of the policy logic and the config snippet: real providers with
# dummy credentials (no API call is made: every resource and the account
# lookup are overridden; aws_iam_policy_document renders locally).
#   terraform init -backend=false && terraform test      (Terraform >= 1.7)
# plan/apply ignore this directory, so the root still works with 1.5.

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "x"
  secret_key                  = "y"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
provider "aws" {
  alias                       = "us_east_1"
  region                      = "us-east-1"
  access_key                  = "x"
  secret_key                  = "y"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
provider "aws" {
  alias                       = "us_east_2"
  region                      = "us-east-2"
  access_key                  = "x"
  secret_key                  = "y"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
provider "aws" {
  alias                       = "us_west_1"
  region                      = "us-west-1"
  access_key                  = "x"
  secret_key                  = "y"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "111122223333" }
}
override_resource {
  target = aws_kms_key.us_east_1
  values = { arn = "arn:aws:kms:us-east-1:111122223333:key/aaaa", key_id = "aaaa" }
}
override_resource {
  target = aws_kms_key.us_east_2
  values = { arn = "arn:aws:kms:us-east-2:111122223333:key/bbbb", key_id = "bbbb" }
}
override_resource {
  target = aws_kms_key.us_west_1
  values = { arn = "arn:aws:kms:us-west-1:111122223333:key/cccc", key_id = "cccc" }
}
override_resource {
  target = aws_kms_alias.us_east_1
}
override_resource {
  target = aws_kms_alias.us_east_2
}
override_resource {
  target = aws_kms_alias.us_west_1
}
override_resource {
  target = aws_dynamodb_table.keys
  values = { arn = "arn:aws:dynamodb:us-east-1:111122223333:table/rkms_keys" }
}
override_resource {
  target = aws_iam_policy.service
  values = { arn = "arn:aws:iam::111122223333:policy/rkms-service" }
}
override_resource {
  target = aws_iam_role_policy_attachment.service
}

run "defaults" {
  command = apply

  assert {
    condition     = [for st in jsondecode(output.policy_json).Statement : st.Sid] == ["KmsWithRkmsContext", "DynamoDbKeyTable"]
    error_message = "by default the policy has the context-bound KMS statement and the table statement only"
  }

  assert {
    condition = jsondecode(output.policy_json).Statement[0].Condition == {
      "ForAllValues:StringEquals" = { "kms:EncryptionContextKeys" = "rkms:id" }
      "Null"                      = { "kms:EncryptionContextKeys" = "false" }
    }
    error_message = "KMS use must require a context whose only key is rkms:id"
  }

  assert {
    condition     = length(jsondecode(output.policy_json).Statement[0].Resource) == 3
    error_message = "KMS use must be limited to the three RKMS keys"
  }

  assert {
    condition     = !contains(jsondecode(output.policy_json).Statement[1].Action, "dynamodb:CreateTable")
    error_message = "the service must not be able to create tables"
  }

  assert {
    condition     = strcontains(output.config_toml, "us-east-1 = \"arn:aws:kms:us-east-1:111122223333:key/aaaa\"")
    error_message = "config_toml must name the key ARNs"
  }
}

run "legacy_items_and_replicas" {
  command = apply

  variables {
    allow_legacy_items    = true
    table_replica_regions = ["us-west-2"]
    regions               = ["us-east-2", "us-west-1"]
    primary_region        = "us-east-2"
    service_role_name     = "rkms-irsa"
  }

  assert {
    condition     = [for st in jsondecode(output.policy_json).Statement : st.Sid] == ["KmsWithRkmsContext", "KmsDecryptLegacyItemsWithoutContext", "DynamoDbKeyTable", "DynamoDbReplicaReads"]
    error_message = "legacy decrypt and replica reads add one statement each"
  }

  assert {
    condition = (
      jsondecode(output.policy_json).Statement[1].Action == "kms:Decrypt" &&
      jsondecode(output.policy_json).Statement[1].Condition == { "Null" = { "kms:EncryptionContextKeys" = "true" } }
    )
    error_message = "the legacy statement must allow Decrypt only, and only without a context"
  }

  assert {
    condition = (
      jsondecode(output.policy_json).Statement[3].Action == "dynamodb:GetItem" &&
      jsondecode(output.policy_json).Statement[3].Resource == "arn:aws:dynamodb:us-west-2:111122223333:table/rkms_keys"
    )
    error_message = "replicas must be readable, never writable"
  }

  assert {
    condition     = length(aws_iam_role_policy_attachment.service) == 1
    error_message = "service_role_name attaches the policy"
  }
}

run "primary_region_outside_regions" {
  command = plan

  variables {
    regions        = ["us-east-2"]
    primary_region = "us-east-1"
  }

  expect_failures = [aws_dynamodb_table.keys]
}
