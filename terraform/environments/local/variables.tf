variable "environment" {
  description = "Environment name, as in deployments/<environment>.yaml."
  type        = string
  default     = "local"
}

variable "release_version" {
  description = "Version being released (the candidate)."
  type        = string
}

variable "stable_version" {
  description = "Version serving traffic before the release."
  type        = string
}

variable "candidate_weight" {
  description = "Percentage of traffic sent to the candidate."
  type        = number
  default     = 0

  validation {
    condition     = var.candidate_weight >= 0 && var.candidate_weight <= 100
    error_message = "The candidate_weight must be between 0 and 100."
  }
}
