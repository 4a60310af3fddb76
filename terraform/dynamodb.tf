# The key table, created in the home region (default provider). Items are
# {id, keys: {region: base64}, ctx, created_at, version, state, deletion_date};
# only the hash key needs declaring.
resource "aws_dynamodb_table" "keys" {
  name         = var.table_name
  billing_mode = "PAY_PER_REQUEST" # traffic follows the clients; no capacity to tune or to run out of
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  # Losing the table loses every data key: recovery to any second in the last
  # 35 days, and a deletion that needs deliberately switching protection off.
  point_in_time_recovery {
    enabled = true
  }

  deletion_protection_enabled = true

  # Encrypted at rest with the AWS managed key (aws/dynamodb), not the RKMS
  # keys: the items are already KMS ciphertexts, and reusing the RKMS keys
  # would force the service policy to grant KMS use via DynamoDB as well.
  server_side_encryption {
    enabled = true
  }

  # Global table replicas (optional) need a stream of new and old images.
  stream_enabled   = length(var.table_replica_regions) > 0
  stream_view_type = length(var.table_replica_regions) > 0 ? "NEW_AND_OLD_IMAGES" : null

  dynamic "replica" {
    for_each = var.table_replica_regions
    content {
      region_name            = replica.value
      point_in_time_recovery = true
      propagate_tags         = true
    }
  }

  lifecycle {
    precondition {
      condition     = contains(var.regions, var.primary_region)
      error_message = "primary_region must be one of var.regions."
    }
    precondition {
      condition     = !contains(var.table_replica_regions, var.primary_region) && length(distinct(var.table_replica_regions)) == length(var.table_replica_regions)
      error_message = "table_replica_regions must not repeat a region nor contain primary_region (the table itself lives there)."
    }
  }
}

locals {
  # Replica tables share the name; their ARNs differ only in the region.
  replica_table_arns = [
    for r in var.table_replica_regions :
    "arn:${local.partition}:dynamodb:${r}:${local.account_id}:table/${var.table_name}"
  ]
}
