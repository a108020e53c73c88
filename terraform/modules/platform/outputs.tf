output "platform" {
  description = "The `platform` input of modules/petswipe_stack."
  value = {
    vpc_id                     = aws_vpc.this.id
    load_balancer_arn          = aws_lb.this.arn
    certificate_arn            = aws_acm_certificate.this.arn
    cluster_arn                = aws_ecs_cluster.this.arn
    private_subnet_ids         = aws_subnet.private[*].id
    service_security_group_ids = [aws_security_group.service.id]
    execution_role_arn         = aws_iam_role.execution.arn
    task_role_arn              = aws_iam_role.task.arn
    backup_role_arn            = aws_iam_role.backup.arn
    database_url_secret_arn    = aws_secretsmanager_secret.database_url.arn
  }
}

# Apart from `platform`, so the database does not wait for the load balancer and the cluster.
output "database" {
  description = "The `database` input of modules/petswipe_stack."
  value = {
    subnet_ids         = aws_subnet.database[*].id
    security_group_ids = [aws_security_group.database.id]
  }
}

output "cluster_name" {
  value = aws_ecs_cluster.this.name
}

output "load_balancer_arn_suffix" {
  description = "For the CloudWatch LoadBalancer dimension."
  value       = aws_lb.this.arn_suffix
}

output "load_balancer_dns_name" {
  value = aws_lb.this.dns_name
}
