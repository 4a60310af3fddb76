variable "partition" {
  description = "AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
}

variable "account_id" {
  description = "The account that owns the keys."
  type        = string
}

variable "key_arns" {
  description = "KMS key ARN per region."
  type        = map(string)

  validation {
    condition     = length(var.key_arns) > 0
    error_message = "key_arns must name at least one key."
  }
}

variable "retired_key_arns" {
  description = "ARNs of KMS keys a region used before its current one: the service may still Decrypt under them (nothing else), so copies made under them stay readable until `rkms repair --rewrap` has moved them."
  type        = list(string)
  default     = []

  validation {
    # IAM matches key ARNs, never aliases: an alias here would grant nothing.
    condition     = alltrue([for arn in var.retired_key_arns : can(regex("^arn:[^:]+:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", arn))])
    error_message = "retired_key_arns must be KMS key ARNs (arn:aws:kms:<region>:<account>:key/<key id>), not aliases or key ids."
  }

  validation {
    condition     = length(setintersection(toset(var.retired_key_arns), toset(values(var.key_arns)))) == 0
    error_message = "retired_key_arns must not contain a current key of key_arns."
  }
}

variable "table_arn" {
  description = "ARN of the key table in the home region."
  type        = string
}

variable "replica_table_arns" {
  description = "ARNs of the global table's replicas (read-only for the service)."
  type        = list(string)
  default     = []
}

variable "allow_legacy_items" {
  description = "Allow kms:Decrypt and kms:Encrypt without any encryption context (items of the original Go RKMS: reading them, and repair adding their missing copies)."
  type        = bool
  default     = false
}

variable "oidc_provider_arn" {
  description = "IAM OIDC provider of the EKS cluster, for the IRSA trust policy; null: no trust policy."
  type        = string
  default     = null

  validation {
    condition     = var.oidc_provider_arn == null || can(regex("^arn:[^:]+:iam::[0-9]{12}:oidc-provider/.+$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<issuer host and path>)."
  }
}

variable "kubernetes_namespace" {
  description = "Namespace of the service account allowed to assume the role."
  type        = string
  default     = "rkms"
}

variable "kubernetes_service_account" {
  description = "Name of the service account allowed to assume the role (the Helm chart's default: the release name)."
  type        = string
  default     = "rkms"
}
