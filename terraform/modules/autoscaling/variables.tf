variable "cluster_name" {
  type = string
}

variable "service_name" {
  type = string
}

variable "min_capacity" {
  description = "Fewest tasks ever; no policy or forecast goes below it."
  type        = number
}

variable "max_capacity" {
  type = number

  validation {
    condition     = var.max_capacity >= 1
    error_message = "The max_capacity must be at least 1."
  }
}

variable "business_hours_min_capacity" {
  description = "Floor from 08:00 to 20:00 on weekdays."
  type        = number
}

variable "weekend_max_capacity" {
  description = "Ceiling from Saturday 00:00 until Monday's business hours."
  type        = number
}

variable "timezone" {
  type    = string
  default = "UTC"
}

variable "cpu_target_percent" {
  type    = number
  default = 60
}

variable "memory_target_percent" {
  type    = number
  default = 70
}

variable "requests_per_target" {
  description = "ALB requests per task per minute that target tracking holds."
  type        = number
  default     = 1000
}

variable "request_count_resource_label" {
  description = "app/<alb-name>/<id>/targetgroup/<tg-name>/<id> of the service's target group."
  type        = string
}

variable "step_out_cpu_percent" {
  type    = number
  default = 85
}

variable "step_in_cpu_percent" {
  type    = number
  default = 25
}

variable "tags" {
  type    = map(string)
  default = {}
}
