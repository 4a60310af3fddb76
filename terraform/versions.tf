terraform {
  # 1.5: moved/import/check blocks; `terraform test` with mock providers needs 1.7.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.0: the per-resource `region` argument (one provider for every region);
      # 6.9: deletion_protection_enabled on a global table's replicas.
      version = ">= 6.9"
    }
  }
}
