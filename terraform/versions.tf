terraform {
  # 1.5: `check`/`import` blocks are available to users of this root; nothing
  # below needs more than lifecycle preconditions (1.2) and one() (0.15).
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
