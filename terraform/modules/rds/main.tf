# PostgreSQL for PetSwipe: encrypted, Multi-AZ where asked, password kept by Secrets Manager.
resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_db_instance" "this" {
  # checkov:skip=CKV_AWS_157:Multi-AZ is set per environment; the infra tests require it in production
  # checkov:skip=CKV_AWS_293:deletion protection is set per environment; production turns it on
  # checkov:skip=CKV_AWS_118:enhanced monitoring needs a monitoring role; Performance Insights covers the load view
  # checkov:skip=CKV2_AWS_30:statement logging would copy adopters' personal data into the logs
  identifier                  = var.name
  engine                      = "postgres"
  engine_version              = var.engine_version
  instance_class              = var.instance_class
  allocated_storage           = var.allocated_storage_gib
  max_allocated_storage       = var.max_allocated_storage_gib
  storage_encrypted           = true
  db_name                     = var.database_name
  username                    = var.username
  manage_master_user_password = true
  multi_az                    = var.multi_az
  db_subnet_group_name        = aws_db_subnet_group.this.name
  vpc_security_group_ids      = var.security_group_ids
  backup_retention_period     = 7
  deletion_protection         = var.deletion_protection
  skip_final_snapshot         = !var.deletion_protection
  final_snapshot_identifier   = var.deletion_protection ? "${var.name}-final" : null
  copy_tags_to_snapshot       = true

  iam_database_authentication_enabled = true
  performance_insights_enabled        = var.performance_insights
  auto_minor_version_upgrade          = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  tags                                = { backup = "petswipe" }
}
