variable "environment" {
  description = "Environment name, as in deployments/<environment>.yaml."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "The environment must be staging or production."
  }
}

variable "release_version" {
  description = "Version being released, served by the canary track."
  type        = string
}

variable "stable_version" {
  description = "Version serving traffic before the release."
  type        = string
}

variable "candidate_weight" {
  description = "Percentage of traffic sent to the canary, 0 to 100."
  type        = number
  default     = 0
}

variable "aws_endpoint" {
  description = "One URL for every AWS API (the AWS sandbox's moto server); null for AWS itself."
  type        = string
  default     = null
}

variable "region" {
  type = string
}

variable "dr_region" {
  description = "Region of the disaster-recovery backup vault."
  type        = string
}

variable "image" {
  description = "registry/repository of the API image, without a tag."
  type        = string
}

variable "domain_name" {
  description = "Host name of the listener's certificate."
  type        = string
}

variable "cpu" {
  type = number
}

variable "memory" {
  type = number
}

variable "desired_count" {
  type = number
}

variable "multi_az" {
  type = bool
}

variable "deletion_protection" {
  type = bool
}

variable "backup_selection" {
  description = "Assign the database to the AWS Backup plan (moto has no backup selections)."
  type        = bool
  default     = true
}

variable "availability_zones" {
  description = "The two zones to spread over; null asks the region (an offline plan names them)."
  type        = list(string)
  default     = null
}

variable "autoscaling" {
  description = "Scale the stable service with Application Auto Scaling (moto has no ListTagsForResource for it, which the provider calls after every read)."
  type        = bool
  default     = true
}

variable "performance_insights" {
  description = "Performance Insights on the database (moto keeps no such setting, so a plan would always show it)."
  type        = bool
  default     = true
}
