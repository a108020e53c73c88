variable "name" {
  type = string
}

variable "engine_version" {
  type    = string
  default = "16"
}

variable "instance_class" {
  type    = string
  default = "db.t4g.medium"
}

variable "allocated_storage_gib" {
  type    = number
  default = 20
}

variable "max_allocated_storage_gib" {
  type    = number
  default = 50
}

variable "database_name" {
  type    = string
  default = "petswipe"
}

variable "username" {
  type    = string
  default = "petswipe"
}

variable "multi_az" {
  type    = bool
  default = true
}

variable "deletion_protection" {
  type    = bool
  default = true
}

variable "subnet_ids" {
  type = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

variable "performance_insights" {
  description = "Performance Insights on the instance (off where the API keeps no such setting: moto)."
  type        = bool
  default     = true
}
