variable "name" {
  description = "Alias of the key, without the alias/ prefix."
  type        = string
}

variable "account_id" {
  description = "Account that owns and administers the key."
  type        = string
}

variable "region" {
  description = "Region whose CloudWatch Logs may use the key."
  type        = string
}

variable "rotation_period_days" {
  description = "Days between automatic rotations; null keeps AWS's default of 365 (which moto does not report back)."
  type        = number
  default     = null
}

variable "deletion_window_days" {
  type    = number
  default = 30
}

variable "tags" {
  type    = map(string)
  default = {}
}
