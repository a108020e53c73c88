variable "environment" {
  type    = string
  default = "production"
}

variable "release_version" {
  type = string
}

variable "stable_version" {
  type = string
}

variable "candidate_weight" {
  description = "Percentage of traffic sent to the canary, 0 to 100."
  type        = number
  default     = 0
}

variable "platform" {
  description = "Outputs of the platform stack, typed by the platform variable of modules/petswipe_stack."
  type        = any
}
