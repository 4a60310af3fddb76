variable "regions" {
  description = "KMS regions RKMS keeps a ciphertext in (config.toml [kms] regions), in the order the service should list them. Adding a region is adding it here."
  type        = list(string)
  default     = ["us-east-1", "us-east-2", "us-west-1"]

  validation {
    condition     = length(var.regions) > 0 && alltrue([for r in var.regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", r))])
    error_message = "regions must be a non-empty list of AWS region names such as us-east-1."
  }

  validation {
    condition     = length(distinct(var.regions)) == length(var.regions)
    error_message = "regions must not repeat a region."
  }
}

variable "primary_region" {
  description = "Home region: the DynamoDB table lives (and is written) here, and the provider points here. Must be one of var.regions."
  type        = string
  default     = "us-east-1"
}

variable "table_name" {
  description = "DynamoDB table name (config.toml [dynamodb] table_name)."
  type        = string
  default     = "rkms_keys"

  validation {
    # Same rule as the service's config schema, so a name Terraform accepts also loads.
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name must be 3-255 characters of A-Z a-z 0-9 _ . -"
  }
}

variable "table_replica_regions" {
  description = "Regions of the global table's replicas. null (the default): every region of var.regions but primary_region; [] for a single-region table. Replicas serve reads only (config.toml [dynamodb] read_region)."
  type        = list(string)
  default     = null
}

variable "kms_key_deletion_window_days" {
  description = "Waiting period before a KMS key scheduled for deletion is destroyed. Every data key protected by it becomes unreadable in that region afterwards, so the default is the maximum."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_days >= 7 && var.kms_key_deletion_window_days <= 30
    error_message = "kms_key_deletion_window_days must be between 7 and 30 (the KMS limits)."
  }
}

variable "eks_oidc_provider_arn" {
  description = "Optional: the IAM OIDC provider of the EKS cluster RKMS runs in. Creates the IAM role its pods assume (IRSA), trusted by the service account kubernetes_namespace/kubernetes_service_account only, with the service policy attached."
  type        = string
  default     = null
}

variable "kubernetes_namespace" {
  description = "Namespace the Helm release is installed in (for the IRSA trust policy)."
  type        = string
  default     = "rkms"
}

variable "kubernetes_service_account" {
  description = "The chart's service account (its default: the release's full name, \"rkms\" for a release named rkms)."
  type        = string
  default     = "rkms"
}

variable "role_name" {
  description = "Name of the IAM role created with eks_oidc_provider_arn."
  type        = string
  default     = "rkms"
}

variable "service_role_name" {
  description = "Optional, instead of eks_oidc_provider_arn: an existing IAM role the service runs as; the policy is attached to it. Otherwise attach the policy_arn output yourself."
  type        = string
  default     = null
}

variable "policy_name" {
  description = "Name of the IAM policy created for the service."
  type        = string
  default     = "rkms-service"
}

variable "retired_kms_key_arns" {
  description = "ARNs of KMS keys that regions used before their current key (see docs/OPERATIONS.md, \"Moving a region to a new KMS key\"): the service keeps kms:Decrypt on them, and nothing else, so copies made under them stay readable until `rkms repair --rewrap` has moved every copy. Remove an ARN once that is done."
  type        = list(string)
  default     = []
}

variable "allow_legacy_items" {
  description = "Allow kms:Decrypt and kms:Encrypt WITHOUT an encryption context, in the key policies and the service policy. Needed only to serve a table written by the original Go RKMS, whose items carry no context (reading them, and `rkms repair` adding their missing copies in the same form); leave false otherwise."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource (merged over Application = rkms)."
  type        = map(string)
  default     = {}
}
