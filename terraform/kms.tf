# One independent symmetric KMS key per region. Single-region keys on purpose:
# RKMS already encrypts every data key separately in each region, and what it
# buys is that one region's key (or its deletion, or its outage) is
# independent of the others; multi-region keys would share key material.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

resource "aws_kms_key" "rkms" {
  for_each = toset(var.regions)
  region   = each.key

  description              = "RKMS data-key protection (${each.key})"
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation      = true
  deletion_window_in_days  = var.kms_key_deletion_window_days
  # Requires the rkms:id encryption context of every caller (modules/policies).
  policy = module.policies.key_policy_json

  lifecycle {
    # Replacing a key makes every ciphertext of that region unreadable: a
    # plan that would do so (a changed region, a provider migration gone
    # wrong) fails instead. Remove deliberately to retire a region.
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "rkms" {
  for_each = aws_kms_key.rkms
  region   = each.key

  name          = "alias/rkms-${each.key}"
  target_key_id = each.value.key_id
}

# The keys' addresses before the for_each (one provider alias and one
# count-ed resource per region): an existing state moves without replacing
# a key. See README.md, "Upgrading from the per-region layout".
moved {
  from = aws_kms_key.us_east_1[0]
  to   = aws_kms_key.rkms["us-east-1"]
}
moved {
  from = aws_kms_key.us_east_2[0]
  to   = aws_kms_key.rkms["us-east-2"]
}
moved {
  from = aws_kms_key.us_west_1[0]
  to   = aws_kms_key.rkms["us-west-1"]
}
moved {
  from = aws_kms_alias.us_east_1[0]
  to   = aws_kms_alias.rkms["us-east-1"]
}
moved {
  from = aws_kms_alias.us_east_2[0]
  to   = aws_kms_alias.rkms["us-east-2"]
}
moved {
  from = aws_kms_alias.us_west_1[0]
  to   = aws_kms_alias.rkms["us-west-1"]
}

locals {
  key_arns    = { for r, key in aws_kms_key.rkms : r => key.arn }
  alias_names = { for r, alias in aws_kms_alias.rkms : r => alias.name }
}
