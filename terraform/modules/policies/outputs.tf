output "key_policy_json" {
  description = "The key policy of every RKMS key."
  value       = jsonencode(local.key_policy)
}

output "service_policy_json" {
  description = "The service's IAM policy."
  value       = jsonencode(local.service_policy)
}

output "irsa_trust_policy_json" {
  description = "Trust policy of the service's IAM role for IRSA; null without oidc_provider_arn."
  value       = local.irsa_trust_policy == null ? null : jsonencode(local.irsa_trust_policy)
}
