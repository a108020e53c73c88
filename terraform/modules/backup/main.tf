# AWS Backup: daily (30 days), weekly (90 days) and monthly (365 days) recovery points,
# each copied to a vault in the disaster-recovery region.
terraform {
  required_providers {
    aws = {
      source                = "hashicorp/aws"
      configuration_aliases = [aws.dr]
    }
  }
}

resource "aws_backup_vault" "primary" {
  name        = "${var.name}-primary"
  kms_key_arn = var.kms_key_arn
}

resource "aws_backup_vault" "dr" {
  provider    = aws.dr
  name        = "${var.name}-dr"
  kms_key_arn = var.dr_kms_key_arn
}

locals {
  # Recovery point tiers: when each runs (UTC) and for how many days its points are kept,
  # in the primary vault and as the copy in the disaster-recovery vault.
  tiers = {
    daily   = { schedule = "cron(0 2 * * ? *)", retention_days = 30 }
    weekly  = { schedule = "cron(0 3 ? * SUN *)", retention_days = 90 }
    monthly = { schedule = "cron(0 4 1 * ? *)", retention_days = 365 }
  }
}

resource "aws_backup_plan" "this" {
  name = var.name

  dynamic "rule" {
    for_each = local.tiers

    content {
      rule_name         = rule.key
      target_vault_name = aws_backup_vault.primary.name
      schedule          = rule.value.schedule

      lifecycle {
        delete_after = rule.value.retention_days
      }

      copy_action {
        destination_vault_arn = aws_backup_vault.dr.arn

        lifecycle {
          delete_after = rule.value.retention_days
        }
      }
    }
  }
}

resource "aws_backup_selection" "this" {
  count        = var.select_resources ? 1 : 0
  name         = var.name
  plan_id      = aws_backup_plan.this.id
  iam_role_arn = var.backup_role_arn
  resources    = var.resource_arns
}
