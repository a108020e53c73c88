variable "environment" {
  description = "Environment name, as in deployments/<environment>.yaml; names every resource."
  type        = string
}

variable "region" {
  description = "Region of the default aws provider, for the services' log configuration."
  type        = string
}

variable "image" {
  description = "registry/repository of the API image, without a tag."
  type        = string
  default     = "registry.petswipe.dev/petswipe/api"
}

variable "release_version" {
  description = "Version being released, served by the canary track."
  type        = string
}

variable "stable_version" {
  description = "Version serving traffic before the release, served by the stable track."
  type        = string
}

variable "candidate_weight" {
  description = "Percentage of traffic sent to the canary track."
  type        = number
  default     = 0

  validation {
    condition     = var.candidate_weight >= 0 && var.candidate_weight <= 100
    error_message = "The candidate_weight must be between 0 and 100."
  }
}

variable "cpu" {
  description = "Fargate CPU units of each task (1024 = 1 vCPU)."
  type        = number
}

variable "memory" {
  description = "Fargate memory of each task in MiB."
  type        = number
}

variable "desired_count" {
  description = "Tasks per track while the track serves traffic."
  type        = number
}

variable "multi_az" {
  type = bool
}

variable "deletion_protection" {
  description = "Protects the database from deletion and keeps a final snapshot."
  type        = bool
}

variable "platform" {
  description = "Network, cluster, certificate, IAM and secret inputs from the platform stack."
  type = object({
    vpc_id                     = string
    load_balancer_arn          = string
    certificate_arn            = string
    cluster_arn                = string
    private_subnet_ids         = list(string)
    service_security_group_ids = list(string)
    execution_role_arn         = string
    task_role_arn              = string
    backup_role_arn            = string
    database_url_secret_arn    = string
  })
}

variable "database" {
  description = "Subnets and security groups of the database, from the platform stack."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
}

variable "max_count" {
  description = "Most stable tasks auto-scaling may run; null: four times desired_count."
  type        = number
  default     = null
}

variable "business_hours_min_count" {
  description = "Stable tasks kept from 08:00 to 20:00 on weekdays; null: twice desired_count."
  type        = number
  default     = null
}

variable "weekend_max_count" {
  description = "Ceiling of stable tasks at weekends; null: twice desired_count."
  type        = number
  default     = null
}

variable "scaling_timezone" {
  description = "Time zone of the scheduled scaling actions."
  type        = string
  default     = "UTC"
}

variable "log_retention_days" {
  description = "Log groups under /petswipe/<environment>/ and the days their events are kept."
  type        = map(number)
  default     = { release = 90, audit = 365, scaling = 30 }
}

variable "cost_center" {
  description = "CostCenter cost allocation tag of every resource the stack tags."
  type        = string
  default     = "petswipe-platform"
}

variable "tags" {
  description = "Extra tags merged into the cost allocation tags."
  type        = map(string)
  default     = {}
}

variable "backup_selection" {
  description = "Assign the database to the backup plan (false where the API has no selections)."
  type        = bool
  default     = true
}

variable "autoscaling" {
  description = "Application Auto Scaling of the stable service (false where the API has no tagging)."
  type        = bool
  default     = true
}

variable "performance_insights" {
  description = "Performance Insights on the database (false where the API keeps no such setting)."
  type        = bool
  default     = true
}
