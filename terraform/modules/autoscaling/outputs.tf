output "resource_id" {
  description = "The scalable target the predictive-scaling flow writes scheduled actions to."
  value       = aws_appautoscaling_target.this.resource_id
}
