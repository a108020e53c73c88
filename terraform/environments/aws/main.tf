# The AWS root of every cloud environment (staging, production): the platform (network,
# load balancer, cluster, roles) and the PetSwipe stack on it. Each environment's sizes and
# regions are in <environment>.tfvars; `aws_endpoint` points every AWS API at one URL
# (the AWS sandbox's moto server) instead of AWS.
terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Local state under the run folder by default; a real account adds an S3 backend with a
  # backend_override.tf (terraform's override files), see README "Releasing to AWS".
  backend "local" {}
}

locals {
  name     = "petswipe-${var.environment}"
  emulated = var.aws_endpoint != null
}

provider "aws" {
  region = var.region

  skip_credentials_validation = local.emulated
  skip_metadata_api_check     = local.emulated
  s3_use_path_style           = local.emulated

  endpoints {
    acm            = var.aws_endpoint
    appautoscaling = var.aws_endpoint
    backup         = var.aws_endpoint
    cloudwatch     = var.aws_endpoint
    dynamodb       = var.aws_endpoint
    ec2            = var.aws_endpoint
    ecs            = var.aws_endpoint
    elbv2          = var.aws_endpoint
    iam            = var.aws_endpoint
    kms            = var.aws_endpoint
    logs           = var.aws_endpoint
    rds            = var.aws_endpoint
    s3             = var.aws_endpoint
    secretsmanager = var.aws_endpoint
    sns            = var.aws_endpoint
    sts            = var.aws_endpoint
  }

}

provider "aws" {
  alias  = "dr"
  region = var.dr_region

  skip_credentials_validation = local.emulated
  skip_metadata_api_check     = local.emulated
  s3_use_path_style           = local.emulated

  endpoints {
    backup = var.aws_endpoint
    iam    = var.aws_endpoint
    kms    = var.aws_endpoint
    rds    = var.aws_endpoint
    s3     = var.aws_endpoint
    sts    = var.aws_endpoint
  }

}

module "platform" {
  source = "../../modules/platform"

  name                        = local.name
  domain_name                 = var.domain_name
  secrets_prefix              = "petswipe/${var.environment}/"
  secret_recovery_window_days = var.deletion_protection ? 30 : 0
  availability_zones          = var.availability_zones
}

module "stack" {
  source = "../../modules/petswipe_stack"

  environment      = var.environment
  region           = var.region
  image            = var.image
  release_version  = var.release_version
  stable_version   = var.stable_version
  candidate_weight = var.candidate_weight
  platform         = module.platform.platform
  database         = module.platform.database
  backup_selection = var.backup_selection
  autoscaling      = var.autoscaling

  performance_insights = var.performance_insights

  cpu                 = var.cpu
  memory              = var.memory
  desired_count       = var.desired_count
  multi_az            = var.multi_az
  deletion_protection = var.deletion_protection

  providers = {
    aws    = aws
    aws.dr = aws.dr
  }
}
