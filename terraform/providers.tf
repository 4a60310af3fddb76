# Terraform cannot create provider configurations in a loop (for_each on
# providers is not supported), so each KMS region has an explicit alias below
# and its own key/alias resources in kms.tf.
#
# To add a region, e.g. eu-west-1:
#   1. add a provider block here with alias = "eu_west_1", region = "eu-west-1";
#   2. in kms.tf, copy the aws_kms_key/aws_kms_alias pair of another region,
#      rename it eu_west_1, point `provider` at aws.eu_west_1, and add the
#      region to local.key_arns_by_region and local.alias_names_by_region;
#   3. add "eu-west-1" to the allowed list in the `regions` validation
#      (variables.tf) and to var.regions.

locals {
  tags = merge({ Application = "rkms" }, var.tags)
}

# The default provider: the home region (DynamoDB table, IAM, account lookups).
provider "aws" {
  region = var.primary_region

  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias  = "us_east_2"
  region = "us-east-2"

  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias  = "us_west_1"
  region = "us-west-1"

  default_tags {
    tags = local.tags
  }
}
