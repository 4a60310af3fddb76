# The root module planned against a mocked AWS provider (no credentials, no
# API call): one key and alias per region from one for_each, the key policy
# in every key, the global table's replicas, the IRSA role.
#   terraform init -backend=false && terraform test      (Terraform >= 1.7)
# Needs the hashicorp/aws >= 6.9 provider package for its schema (init
# downloads it, or -plugin-dir / a filesystem mirror provides it). The policy
# documents themselves are tested without any provider in
# modules/policies/tests.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

override_resource {
  target = aws_kms_key.rkms
  values = { arn = "arn:aws:kms:us-east-1:111122223333:key/mock", key_id = "mock" }
}

override_resource {
  target = aws_dynamodb_table.keys
  values = { arn = "arn:aws:dynamodb:us-east-1:111122223333:table/rkms_keys" }
}

run "one_key_and_alias_per_region" {
  command = plan

  assert {
    condition     = keys(aws_kms_key.rkms) == ["us-east-1", "us-east-2", "us-west-1"]
    error_message = "one key per region of var.regions"
  }

  assert {
    condition     = alltrue([for r, key in aws_kms_key.rkms : key.region == r && key.enable_key_rotation])
    error_message = "each key lives in its own region and rotates"
  }

  assert {
    condition     = [for r, alias in aws_kms_alias.rkms : "${alias.region} ${alias.name}"] == ["us-east-1 alias/rkms-us-east-1", "us-east-2 alias/rkms-us-east-2", "us-west-1 alias/rkms-us-west-1"]
    error_message = "one alias/rkms-<region> per key, in the key's region"
  }

  assert {
    condition     = alltrue([for key in aws_kms_key.rkms : jsondecode(key.policy).Statement[2].Sid == "DenyCopiesWithoutRkmsIdContext"])
    error_message = "every key carries the key policy that requires the rkms:id context"
  }

  assert {
    condition     = toset([for r in aws_dynamodb_table.keys.replica : r.region_name]) == toset(["us-east-2", "us-west-1"])
    error_message = "the table has a replica in every other KMS region"
  }

  assert {
    condition     = alltrue([for r in aws_dynamodb_table.keys.replica : r.point_in_time_recovery && r.deletion_protection_enabled])
    error_message = "replicas are as protected as the table"
  }

  assert {
    condition     = aws_dynamodb_table.keys.stream_enabled && aws_dynamodb_table.keys.region == "us-east-1"
    error_message = "the table lives in the home region and streams to its replicas"
  }

  assert {
    condition     = length(aws_iam_role.service) == 0 && length(aws_iam_role_policy_attachment.service) == 0
    error_message = "no role and no attachment unless asked for"
  }
}

run "a_fourth_region_is_one_more_list_entry" {
  command = plan

  variables {
    regions = ["us-east-1", "us-east-2", "us-west-1", "eu-west-1"]
  }

  assert {
    condition     = length(aws_kms_key.rkms) == 4 && aws_kms_key.rkms["eu-west-1"].region == "eu-west-1"
    error_message = "the new region gets its key"
  }

  assert {
    condition     = length(aws_dynamodb_table.keys.replica) == 3
    error_message = "and its table replica"
  }

  assert {
    condition     = strcontains(output.config_toml, "regions = [\"us-east-1\",\"us-east-2\",\"us-west-1\",\"eu-west-1\"]")
    error_message = "config_toml lists the regions in order"
  }
}

run "irsa_role_legacy_items_single_region_table" {
  command = plan

  variables {
    eks_oidc_provider_arn = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
    allow_legacy_items    = true
    table_replica_regions = []
  }

  assert {
    condition     = length(aws_iam_role.service) == 1 && length(aws_iam_role_policy_attachment.service) == 1
    error_message = "the IRSA role is created and gets the policy"
  }

  assert {
    condition     = jsondecode(aws_iam_role.service[0].assume_role_policy).Statement[0].Condition.StringEquals["oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE:sub"] == "system:serviceaccount:rkms:rkms"
    error_message = "only the chart's service account may assume it"
  }

  assert {
    condition     = alltrue([for key in aws_kms_key.rkms : jsondecode(key.policy).Statement[2].Sid == "DenyCopiesWithForeignContext"])
    error_message = "legacy items relax Encrypt and Decrypt without a context in the key policies"
  }

  assert {
    condition     = length(aws_dynamodb_table.keys.replica) == 0 && !aws_dynamodb_table.keys.stream_enabled
    error_message = "table_replica_regions = [] keeps a single-region table"
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
