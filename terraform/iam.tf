# The documents themselves are in modules/policies (no provider: tested offline).
module "policies" {
  source = "./modules/policies"

  partition                  = local.partition
  account_id                 = local.account_id
  key_arns                   = local.key_arns
  retired_key_arns           = var.retired_kms_key_arns
  table_arn                  = aws_dynamodb_table.keys.arn
  replica_table_arns         = local.replica_table_arns
  allow_legacy_items         = var.allow_legacy_items
  oidc_provider_arn          = var.eks_oidc_provider_arn
  kubernetes_namespace       = var.kubernetes_namespace
  kubernetes_service_account = var.kubernetes_service_account
}

resource "aws_iam_policy" "service" {
  name        = var.policy_name
  description = "RKMS service: KMS data-key operations bound to the rkms:id encryption context, and item access to the ${var.table_name} table"
  policy      = module.policies.service_policy_json
}

# With an EKS cluster's OIDC provider: the role the pods assume (IRSA);
# put its ARN into the chart's serviceAccount.annotations.
resource "aws_iam_role" "service" {
  count = var.eks_oidc_provider_arn == null ? 0 : 1

  name               = var.role_name
  description        = "RKMS pods (service account ${var.kubernetes_namespace}/${var.kubernetes_service_account})"
  assume_role_policy = module.policies.irsa_trust_policy_json
}

locals {
  service_role_name = var.eks_oidc_provider_arn == null ? var.service_role_name : aws_iam_role.service[0].name
}

resource "aws_iam_role_policy_attachment" "service" {
  count = var.eks_oidc_provider_arn == null && var.service_role_name == null ? 0 : 1

  role       = local.service_role_name
  policy_arn = aws_iam_policy.service.arn
}
