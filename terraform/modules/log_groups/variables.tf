variable "environment" {
  type = string
}

variable "retention_days" {
  description = "Log group name (under /petswipe/<environment>/) to days its events are kept."
  type        = map(number)

  validation {
    condition     = alltrue([for days in values(var.retention_days) : days > 0])
    error_message = "Every log group needs a positive retention; 0 would keep events forever."
  }
}

variable "kms_key_arn" {
  type = string
}

variable "tags" {
  type    = map(string)
  default = {}
}
