# Production: Multi-AZ, three tasks per track, protected from deletion.
environment         = "production"
region              = "us-east-1"
dr_region           = "us-west-2"
image               = "222222222222.dkr.ecr.us-east-1.amazonaws.com/petswipe/api"
domain_name         = "api.petswipe.dev"
cpu                 = 1024
memory              = 2048
desired_count       = 3
multi_az            = true
deletion_protection = true
