output "listener_arn" {
  value = aws_lb_listener.https.arn
}

output "stable_target_group_arn" {
  value = aws_lb_target_group.stable.arn
}

output "canary_target_group_arn" {
  value = aws_lb_target_group.canary.arn
}

output "stable_target_group_arn_suffix" {
  description = "For the CloudWatch TargetGroup dimension."
  value       = aws_lb_target_group.stable.arn_suffix
}

output "canary_target_group_arn_suffix" {
  value = aws_lb_target_group.canary.arn_suffix
}
