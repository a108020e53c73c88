output "environment" {
  value = var.environment
}

output "release_version" {
  value = var.release_version
}

output "stable_version" {
  value = var.stable_version
}

output "candidate_weight" {
  value = var.candidate_weight
}

output "stable_weight" {
  value = local.stable_weight
}
