output "listener_arn" {
  value = module.alb_canary.listener_arn
}

output "stable_target_group_arn" {
  value = module.alb_canary.stable_target_group_arn
}

output "canary_target_group_arn" {
  value = module.alb_canary.canary_target_group_arn
}

output "stable_service" {
  value = module.service["stable"].service_name
}

output "canary_service" {
  value = module.service["canary"].service_name
}

output "db_instance" {
  value = module.rds.instance_id
}

output "backup_vault" {
  value = module.backup.vault_name
}

output "kms_key_arn" {
  value = module.kms.key_arn
}

output "assets_bucket" {
  value = module.assets_bucket.id
}

output "scalable_target" {
  description = "Resource id of the stable service's Application Auto Scaling target."
  value       = one(module.autoscaling[*].resource_id)
}

output "cost_allocation_tags" {
  value = local.cost_allocation_tags
}

output "dr_backup_vault_arn" {
  value = module.backup.dr_vault_arn
}
