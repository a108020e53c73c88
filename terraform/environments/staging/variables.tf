variable "environment" {
  type    = string
  default = "staging"
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "dr_region" {
  type    = string
  default = "us-west-2"
}

variable "image" {
  type    = string
  default = "registry.petswipe.dev/petswipe/api"
}

variable "release_version" {
  type = string
}

variable "stable_version" {
  type = string
}

variable "candidate_weight" {
  type    = number
  default = 0

  validation {
    condition     = var.candidate_weight >= 0 && var.candidate_weight <= 100
    error_message = "The candidate_weight must be between 0 and 100."
  }
}

variable "cpu" {
  type    = number
  default = 512
}

variable "memory" {
  type    = number
  default = 1024
}

variable "desired_count" {
  type    = number
  default = 2
}

variable "vpc_id" {
  type = string
}

variable "load_balancer_arn" {
  type = string
}

variable "certificate_arn" {
  type = string
}

variable "cluster_arn" {
  type = string
}

variable "private_subnet_ids" {
  type = list(string)
}

variable "database_subnet_ids" {
  type = list(string)
}

variable "service_security_group_ids" {
  type = list(string)
}

variable "database_security_group_ids" {
  type = list(string)
}

variable "execution_role_arn" {
  type = string
}

variable "task_role_arn" {
  type = string
}

variable "backup_role_arn" {
  type = string
}

variable "database_url_secret_arn" {
  type = string
}
