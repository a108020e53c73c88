output "id" {
  value = aws_s3_bucket.this.id
}

output "arn" {
  value = aws_s3_bucket.this.arn
}

output "access_log_target" {
  description = "For access_log_bucket of the buckets that log here: names the bucket once its policy lets S3 write."
  value       = var.receives_access_logs ? { bucket = aws_s3_bucket_policy.access_logs[0].bucket } : null
}
