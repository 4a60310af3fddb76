locals {
  tags = merge({ Application = "rkms" }, var.tags)
}

# One provider for every region: each regional resource names its region
# (AWS provider >= 6), so adding a region is one more entry in var.regions.
# The provider's own region is the home region: the table, and the account
# lookups.
provider "aws" {
  region = var.primary_region

  default_tags {
    tags = local.tags
  }
}
