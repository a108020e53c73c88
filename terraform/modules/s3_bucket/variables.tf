variable "name" {
  type = string
}

variable "kms_key_arn" {
  type = string
}

variable "access_log_bucket" {
  description = "Bucket that receives this bucket's access logs; null for the log bucket itself."
  type        = string
  default     = null
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
