variable "name" {
  type = string
}

variable "resource_arns" {
  description = "ARNs of the resources to back up (the RDS instance, DynamoDB tables)."
  type        = list(string)
}

variable "backup_role_arn" {
  type = string
}

variable "kms_key_arn" {
  type    = string
  default = null
}

variable "dr_kms_key_arn" {
  type    = string
  default = null
}

variable "select_resources" {
  description = "Create the selection that assigns resource_arns to the plan."
  type        = bool
  default     = true
}
