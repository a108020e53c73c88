# Staging: one region pair, small tasks, no Multi-AZ, deletable.
environment         = "staging"
region              = "us-east-1"
dr_region           = "us-west-2"
image               = "111111111111.dkr.ecr.us-east-1.amazonaws.com/petswipe/api"
domain_name         = "staging.api.petswipe.dev"
cpu                 = 512
memory              = 1024
desired_count       = 2
multi_az            = false
deletion_protection = false
