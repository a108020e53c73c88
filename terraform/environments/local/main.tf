# The local sandbox root: no providers, so it plans and applies offline. Its outputs
# record which versions the release serves and how traffic is split between them.
terraform {
  required_version = ">= 1.0"

  backend "local" {}
}

locals {
  stable_weight = 100 - var.candidate_weight
}
