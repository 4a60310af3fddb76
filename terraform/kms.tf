# One independent symmetric KMS key per region. Single-region keys on purpose:
# RKMS already encrypts every data key separately in each region, and what it
# buys is that one region's key (or its deletion, or its outage) is independent
# of the others; multi-region keys would share key material across regions.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

# The key policy only keeps the account in control: the account root can
# administer the key, and IAM policies in the account take effect (the
# service gets its narrow permissions from iam.tf, not from here). Without
# this statement the key could become unmanageable.
data "aws_iam_policy_document" "key_policy" {
  statement {
    sid       = "EnableAccountRootAndIamPolicies"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

# ---- us-east-1 -------------------------------------------------------------

resource "aws_kms_key" "us_east_1" {
  count    = contains(var.regions, "us-east-1") ? 1 : 0
  provider = aws.us_east_1

  description              = "RKMS data-key protection (us-east-1)"
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation      = true
  deletion_window_in_days  = var.kms_key_deletion_window_days
  policy                   = data.aws_iam_policy_document.key_policy.json
}

resource "aws_kms_alias" "us_east_1" {
  count    = contains(var.regions, "us-east-1") ? 1 : 0
  provider = aws.us_east_1

  name          = "alias/rkms-us-east-1"
  target_key_id = aws_kms_key.us_east_1[count.index].key_id
}

# ---- us-east-2 -------------------------------------------------------------

resource "aws_kms_key" "us_east_2" {
  count    = contains(var.regions, "us-east-2") ? 1 : 0
  provider = aws.us_east_2

  description              = "RKMS data-key protection (us-east-2)"
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation      = true
  deletion_window_in_days  = var.kms_key_deletion_window_days
  policy                   = data.aws_iam_policy_document.key_policy.json
}

resource "aws_kms_alias" "us_east_2" {
  count    = contains(var.regions, "us-east-2") ? 1 : 0
  provider = aws.us_east_2

  name          = "alias/rkms-us-east-2"
  target_key_id = aws_kms_key.us_east_2[count.index].key_id
}

# ---- us-west-1 -------------------------------------------------------------

resource "aws_kms_key" "us_west_1" {
  count    = contains(var.regions, "us-west-1") ? 1 : 0
  provider = aws.us_west_1

  description              = "RKMS data-key protection (us-west-1)"
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation      = true
  deletion_window_in_days  = var.kms_key_deletion_window_days
  policy                   = data.aws_iam_policy_document.key_policy.json
}

resource "aws_kms_alias" "us_west_1" {
  count    = contains(var.regions, "us-west-1") ? 1 : 0
  provider = aws.us_west_1

  name          = "alias/rkms-us-west-1"
  target_key_id = aws_kms_key.us_west_1[count.index].key_id
}

# ---- by region -------------------------------------------------------------

locals {
  # one() yields null for a region that is not in var.regions (count = 0).
  key_arns_by_region = {
    "us-east-1" = one(aws_kms_key.us_east_1[*].arn)
    "us-east-2" = one(aws_kms_key.us_east_2[*].arn)
    "us-west-1" = one(aws_kms_key.us_west_1[*].arn)
  }
  alias_names_by_region = {
    "us-east-1" = one(aws_kms_alias.us_east_1[*].name)
    "us-east-2" = one(aws_kms_alias.us_east_2[*].name)
    "us-west-1" = one(aws_kms_alias.us_west_1[*].name)
  }

  key_arns    = { for r in var.regions : r => local.key_arns_by_region[r] }
  alias_names = { for r in var.regions : r => local.alias_names_by_region[r] }
}
