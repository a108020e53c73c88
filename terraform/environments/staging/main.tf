# The staging root: the PetSwipe stack with staging's regions and sizes.
# Network, cluster, certificates and IAM roles come in through var.platform from the platform stack.
terraform {
  required_version = ">= 1.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }

  backend "s3" {}
}

locals {
  region    = "us-east-1"
  dr_region = "us-west-2"
}

provider "aws" {
  region = local.region
}

provider "aws" {
  alias  = "dr"
  region = local.dr_region
}

module "stack" {
  source = "../../modules/petswipe_stack"

  environment      = var.environment
  region           = local.region
  release_version  = var.release_version
  stable_version   = var.stable_version
  candidate_weight = var.candidate_weight
  platform         = var.platform

  cpu                 = 512
  memory              = 1024
  desired_count       = 2
  multi_az            = false
  deletion_protection = false

  providers = {
    aws    = aws
    aws.dr = aws.dr
  }
}
