variable "name" {
  type = string
}

variable "kms_key_arn" {
  type = string
}

variable "access_log_bucket" {
  description = "The access_log_target output of the bucket that receives this bucket's access logs; null for none."
  type        = object({ bucket = string })
  default     = null
}

variable "account_id" {
  description = "The account whose buckets may log here (with receives_access_logs)."
  type        = string
  default     = null
}

variable "receives_access_logs" {
  description = "Let S3 server access logging write into this bucket (a bucket policy for its service principal)."
  type        = bool
  default     = false
}

variable "infrequent_access_after_days" {
  type    = number
  default = 30
}

variable "glacier_after_days" {
  type    = number
  default = 90
}

variable "noncurrent_expiration_days" {
  type    = number
  default = 90
}

variable "force_destroy" {
  type    = bool
  default = false
}

variable "tags" {
  type    = map(string)
  default = {}
}
