locals {
  # The table lives in the home region and, as a global table, has a replica
  # in every other KMS region unless table_replica_regions says otherwise.
  table_replica_regions = var.table_replica_regions != null ? var.table_replica_regions : [
    for r in var.regions : r if r != var.primary_region
  ]
}

# The key table. Items are {id, keys: {region: base64}, ctx, created_at,
# version, state, deletion_date}; only the hash key needs declaring.
resource "aws_dynamodb_table" "keys" {
  region       = var.primary_region
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
  # would force their key policy to admit DynamoDB without an rkms:id context.
  server_side_encryption {
    enabled = true
  }

  # A global table's replicas need a stream of new and old images.
  stream_enabled   = length(local.table_replica_regions) > 0
  stream_view_type = length(local.table_replica_regions) > 0 ? "NEW_AND_OLD_IMAGES" : null

  # Replicas serve reads only (config.toml [dynamodb] read_region; the IAM
  # policy grants writes in the home region only): a global table resolves
  # concurrent writes in two regions as last-writer-wins.
  dynamic "replica" {
    for_each = local.table_replica_regions
    content {
      region_name                 = replica.value
      point_in_time_recovery      = true
      deletion_protection_enabled = true
      propagate_tags              = true
    }
  }

  lifecycle {
    precondition {
      condition     = contains(var.regions, var.primary_region)
      error_message = "primary_region must be one of var.regions."
    }
    precondition {
      condition     = !contains(local.table_replica_regions, var.primary_region) && length(distinct(local.table_replica_regions)) == length(local.table_replica_regions)
      error_message = "table_replica_regions must not repeat a region nor contain primary_region (the table itself lives there)."
    }
  }
}

locals {
  # Replica tables share the name; their ARNs differ only in the region.
  replica_table_arns = [
    for r in local.table_replica_regions :
    "arn:${local.partition}:dynamodb:${r}:${local.account_id}:table/${var.table_name}"
  ]
}
