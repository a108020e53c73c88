# The AWS adapters read the environment's resources from these outputs.
output "region" {
  value = var.region
}

output "dr_region" {
  value = var.dr_region
}

output "cluster" {
  value = module.platform.cluster_name
}

output "load_balancer_arn_suffix" {
  value = module.platform.load_balancer_arn_suffix
}

output "load_balancer_dns_name" {
  value = module.platform.load_balancer_dns_name
}

output "listener_arn" {
  value = module.stack.listener_arn
}

output "stable_target_group_arn" {
  value = module.stack.stable_target_group_arn
}

output "canary_target_group_arn" {
  value = module.stack.canary_target_group_arn
}

output "stable_service" {
  value = module.stack.stable_service
}

output "canary_service" {
  value = module.stack.canary_service
}

output "db_instance" {
  value = module.stack.db_instance
}

output "backup_vault" {
  value = module.stack.backup_vault
}

output "dr_backup_vault_arn" {
  value = module.stack.dr_backup_vault_arn
}

output "secrets_prefix" {
  value = "petswipe/${var.environment}/"
}

output "release_version" {
  value = var.release_version
}

output "candidate_weight" {
  value = var.candidate_weight
}
