# One PetSwipe environment on AWS: the ALB canary split, a stable and a canary ECS service,
# RDS and backups. Each environment root calls this with its own sizes and regions.
terraform {
  required_providers {
    aws = {
      source                = "hashicorp/aws"
      version               = "~> 5.100"
      configuration_aliases = [aws.dr]
    }
  }
}

locals {
  name = "petswipe-${var.environment}"

  # The two tracks of the service: stable serves the current version, the canary the
  # release, and runs only while it has a share of the traffic.
  tracks = {
    stable = {
      version          = var.stable_version
      desired_count    = var.desired_count
      target_group_arn = module.alb_canary.stable_target_group_arn
    }
    canary = {
      version          = var.release_version
      desired_count    = var.candidate_weight > 0 ? var.desired_count : 0
      target_group_arn = module.alb_canary.canary_target_group_arn
    }
  }
}

module "alb_canary" {
  source            = "../alb_canary"
  name              = local.name
  vpc_id            = var.platform.vpc_id
  load_balancer_arn = var.platform.load_balancer_arn
  certificate_arn   = var.platform.certificate_arn
  stable_weight     = 100 - var.candidate_weight
  canary_weight     = var.candidate_weight
}

module "service" {
  source   = "../ecs_service"
  for_each = local.tracks

  name               = "${local.name}-${each.key}"
  region             = var.region
  cluster_arn        = var.platform.cluster_arn
  image              = var.image
  image_tag          = each.value.version
  cpu                = var.cpu
  memory             = var.memory
  desired_count      = each.value.desired_count
  subnet_ids         = var.platform.private_subnet_ids
  security_group_ids = var.platform.service_security_group_ids
  target_group_arn   = each.value.target_group_arn
  execution_role_arn = var.platform.execution_role_arn
  task_role_arn      = var.platform.task_role_arn
  secrets            = { DATABASE_URL = var.platform.database_url_secret_arn }
}

module "rds" {
  source               = "../rds"
  name                 = local.name
  multi_az             = var.multi_az
  deletion_protection  = var.deletion_protection
  performance_insights = var.performance_insights
  subnet_ids           = var.database.subnet_ids
  security_group_ids   = var.database.security_group_ids
}

module "backup" {
  source           = "../backup"
  name             = local.name
  resource_arns    = [module.rds.instance_arn]
  backup_role_arn  = var.platform.backup_role_arn
  select_resources = var.backup_selection

  providers = {
    aws    = aws
    aws.dr = aws.dr
  }
}

# Data protection, log retention, auto-scaling and cost allocation tags.
locals {
  account_id   = split(":", var.platform.execution_role_arn)[4]
  cluster_name = element(split("/", var.platform.cluster_arn), 1)

  # Cost Explorer groups spend by these (activate them as cost allocation tags once).
  cost_allocation_tags = merge(var.tags, {
    Project     = "petswipe"
    Environment = var.environment
    Service     = "petswipe-api"
    CostCenter  = var.cost_center
  })

  max_count = coalesce(var.max_count, var.desired_count * 4)
}

module "kms" {
  source     = "../kms"
  name       = local.name
  account_id = local.account_id
  region     = var.region
  tags       = local.cost_allocation_tags
}

module "log_bucket" {
  source               = "../s3_bucket"
  name                 = "${local.name}-logs"
  kms_key_arn          = module.kms.key_arn
  receives_access_logs = true
  account_id           = local.account_id
  tags                 = local.cost_allocation_tags
}

module "assets_bucket" {
  source            = "../s3_bucket"
  name              = "${local.name}-assets"
  kms_key_arn       = module.kms.key_arn
  access_log_bucket = module.log_bucket.access_log_target
  tags              = local.cost_allocation_tags
}

module "log_groups" {
  source         = "../log_groups"
  environment    = var.environment
  retention_days = var.log_retention_days
  kms_key_arn    = module.kms.key_arn
  tags           = local.cost_allocation_tags
}

module "autoscaling" {
  source                       = "../autoscaling"
  count                        = var.autoscaling ? 1 : 0
  cluster_name                 = local.cluster_name
  service_name                 = module.service["stable"].service_name
  min_capacity                 = var.desired_count
  max_capacity                 = local.max_count
  business_hours_min_capacity  = min(local.max_count, coalesce(var.business_hours_min_count, var.desired_count * 2))
  weekend_max_capacity         = min(local.max_count, coalesce(var.weekend_max_count, var.desired_count * 2))
  timezone                     = var.scaling_timezone
  request_count_resource_label = "${split("loadbalancer/", var.platform.load_balancer_arn)[1]}/${module.alb_canary.stable_target_group_arn_suffix}"
  tags                         = local.cost_allocation_tags
}
