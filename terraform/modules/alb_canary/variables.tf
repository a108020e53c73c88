variable "name" {
  description = "Prefix of the target group names."
  type        = string
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

variable "container_port" {
  type    = number
  default = 8080
}

variable "health_check_path" {
  type    = string
  default = "/health"
}

variable "stable_weight" {
  description = "Share of traffic for the stable target group."
  type        = number
  default     = 100

  validation {
    condition     = var.stable_weight >= 0 && var.stable_weight <= 100
    error_message = "The stable_weight must be between 0 and 100."
  }
}

variable "canary_weight" {
  description = "Share of traffic for the canary target group."
  type        = number
  default     = 0

  validation {
    condition     = var.canary_weight >= 0 && var.canary_weight <= 100
    error_message = "The canary_weight must be between 0 and 100."
  }
}
