# The production root: the PetSwipe stack with production's regions and sizes.
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

  cpu                 = 1024
  memory              = 2048
  desired_count       = 3
  multi_az            = true
  deletion_protection = true

  providers = {
    aws    = aws
    aws.dr = aws.dr
  }
}
