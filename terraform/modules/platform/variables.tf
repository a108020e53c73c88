variable "name" {
  description = "Prefix of every resource's name, e.g. petswipe-staging."
  type        = string
}

variable "cidr_block" {
  type    = string
  default = "10.40.0.0/16"
}

variable "container_port" {
  type    = number
  default = 8080
}

variable "domain_name" {
  description = "Host name the listener's certificate is for."
  type        = string
}

variable "secrets_prefix" {
  description = "Prefix of the service's Secrets Manager names, e.g. petswipe/staging/."
  type        = string
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can still be restored (0 deletes at once)."
  type        = number
  default     = 7
}

variable "availability_zones" {
  description = "The two zones to spread over; null asks the region (an offline plan names them)."
  type        = list(string)
  default     = null
}
