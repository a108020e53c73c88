# CloudWatch log groups of the stack besides the services' own: each with a retention, so
# logs stop costing once they are no longer useful, and encrypted with the stack's key.
resource "aws_cloudwatch_log_group" "this" {
  for_each = var.retention_days

  name              = "/petswipe/${var.environment}/${each.key}"
  retention_in_days = each.value
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}
