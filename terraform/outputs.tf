locals {
  # Built line by line (not a heredoc with template directives) so the
  # rendering cannot pick up stray indentation. jsonencode() of a string or a
  # list of strings is a valid TOML basic string / array.
  config_toml = join("\n", concat(
    [
      "# From terraform output config_toml: the [kms], [kms.key_ids],",
      "# [dynamodb] and [embedded] sections of config.toml.",
      "[kms]",
      "regions = ${jsonencode(var.regions)}",
      "",
      "[kms.key_ids]",
    ],
    [for r in var.regions : "${r} = ${jsonencode(local.key_arns[r])}"],
    [
      "",
      "[dynamodb]",
      "region = ${jsonencode(var.primary_region)}",
      "table_name = ${jsonencode(aws_dynamodb_table.keys.name)}",
    ],
    [for r in local.table_replica_regions : "# read_region = ${jsonencode(r)}   # reads from this replica if it is nearer"],
    [
      "",
      "[embedded]",
      "kms = false",
      "dynamodb = false",
      "",
    ],
  ))
}

output "kms_key_arns" {
  description = "KMS key ARN per region."
  value       = local.key_arns
}

output "kms_alias_names" {
  description = "KMS alias per region (alias/rkms-<region>)."
  value       = local.alias_names
}

output "dynamodb_table_name" {
  description = "The key table's name."
  value       = aws_dynamodb_table.keys.name
}

output "dynamodb_table_arn" {
  description = "The key table's ARN (home region)."
  value       = aws_dynamodb_table.keys.arn
}

output "dynamodb_replica_regions" {
  description = "Regions of the global table's replicas."
  value       = local.table_replica_regions
}

output "policy_arn" {
  description = "ARN of the service's IAM policy."
  value       = aws_iam_policy.service.arn
}

output "policy_json" {
  description = "The service's IAM policy document."
  value       = module.policies.service_policy_json
}

output "key_policy_json" {
  description = "The key policy of every RKMS key."
  value       = module.policies.key_policy_json
}

output "service_role_arn" {
  description = "ARN of the IRSA role (with eks_oidc_provider_arn): the chart's serviceAccount.annotations eks.amazonaws.com/role-arn."
  value       = one(aws_iam_role.service[*].arn)
}

output "config_toml" {
  description = "Ready-to-paste config.toml sections: terraform output -raw config_toml"
  value       = local.config_toml
}
