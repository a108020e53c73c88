# The production root: the ALB canary split, a stable and a canary ECS service, RDS and backups.
# Network, cluster, certificates and IAM roles come in as variables from the platform stack.
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

provider "aws" {
  region = var.region
}

provider "aws" {
  alias  = "dr"
  region = var.dr_region
}

locals {
  name = "petswipe-${var.environment}"
}

module "alb_canary" {
  source            = "../../modules/alb_canary"
  name              = local.name
  vpc_id            = var.vpc_id
  load_balancer_arn = var.load_balancer_arn
  certificate_arn   = var.certificate_arn
  stable_weight     = 100 - var.candidate_weight
  canary_weight     = var.candidate_weight
}

module "stable" {
  source             = "../../modules/ecs_service"
  name               = "${local.name}-stable"
  region             = var.region
  cluster_arn        = var.cluster_arn
  image              = var.image
  image_tag          = var.stable_version
  cpu                = var.cpu
  memory             = var.memory
  desired_count      = var.desired_count
  subnet_ids         = var.private_subnet_ids
  security_group_ids = var.service_security_group_ids
  target_group_arn   = module.alb_canary.stable_target_group_arn
  execution_role_arn = var.execution_role_arn
  task_role_arn      = var.task_role_arn
  secrets            = { DATABASE_URL = var.database_url_secret_arn }
}

module "canary" {
  source             = "../../modules/ecs_service"
  name               = "${local.name}-canary"
  region             = var.region
  cluster_arn        = var.cluster_arn
  image              = var.image
  image_tag          = var.release_version
  cpu                = var.cpu
  memory             = var.memory
  desired_count      = var.candidate_weight > 0 ? var.desired_count : 0
  subnet_ids         = var.private_subnet_ids
  security_group_ids = var.service_security_group_ids
  target_group_arn   = module.alb_canary.canary_target_group_arn
  execution_role_arn = var.execution_role_arn
  task_role_arn      = var.task_role_arn
  secrets            = { DATABASE_URL = var.database_url_secret_arn }
}

module "rds" {
  source              = "../../modules/rds"
  name                = local.name
  multi_az            = true
  deletion_protection = true
  subnet_ids          = var.database_subnet_ids
  security_group_ids  = var.database_security_group_ids
}

module "backup" {
  source          = "../../modules/backup"
  name            = local.name
  resource_arns   = [module.rds.instance_arn]
  backup_role_arn = var.backup_role_arn

  providers = {
    aws    = aws
    aws.dr = aws.dr
  }
}
