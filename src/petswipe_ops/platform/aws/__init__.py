"""The AWS platform: boto3 adapters behind every seam, resources from the terraform outputs.

Router = the ALB listener's weighted forward, services = ECS services and task definitions,
metrics = CloudWatch ALB target-group metrics or a Prometheus HTTP API, database = RDS
snapshots (AWS Backup recovery points where that API answers), secrets = Secrets Manager.
"""
