variable "regions" {
  description = "KMS regions RKMS keeps a ciphertext in (config.toml [kms] regions), in the order the service should list them. Only regions with a provider alias in providers.tf are supported."
  type        = list(string)
  default     = ["us-east-1", "us-east-2", "us-west-1"]

  validation {
    # Terraform cannot create providers in a loop, so every region needs its own
    # alias and resources; see providers.tf to add one, then extend this list.
    condition     = length(var.regions) > 0 && alltrue([for r in var.regions : contains(["us-east-1", "us-east-2", "us-west-1"], r)])
    error_message = "regions must be a non-empty subset of us-east-1, us-east-2, us-west-1 (add a provider alias and key resources in providers.tf/kms.tf for another region)."
  }

  validation {
    condition     = length(distinct(var.regions)) == length(var.regions)
    error_message = "regions must not repeat a region."
  }
}

variable "primary_region" {
  description = "Home region: the DynamoDB table lives (and is written) here, and the default provider points here. Must be one of var.regions."
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
  description = "Optional: regions to replicate the table to (a DynamoDB global table). Replicas are for reads only (config.toml [dynamodb] read_region); the IAM policy grants writes in primary_region only, because a global table resolves concurrent writes from two regions as last-writer-wins and could silently replace a data key."
  type        = list(string)
  default     = []
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

variable "service_role_name" {
  description = "Optional: name of an existing IAM role the service runs as (e.g. the IRSA role of its Kubernetes service account). The policy is attached to it when set; otherwise attach the policy_arn output yourself."
  type        = string
  default     = null
}

variable "policy_name" {
  description = "Name of the IAM policy created for the service."
  type        = string
  default     = "rkms-service"
}

variable "allow_legacy_items" {
  description = "Allow kms:Decrypt WITHOUT an encryption context. Needed only to serve a table written by the original Go RKMS, whose items carry no context; leave false otherwise. See iam.tf."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource (merged over Application = rkms)."
  type        = map(string)
  default     = {}
}
