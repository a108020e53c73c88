# What the PetSwipe stack runs on: network, load balancer, ECS cluster, IAM roles, the
# service's database-URL secret and the listener's certificate. Its outputs are exactly the
# `platform` input of modules/petswipe_stack.
data "aws_availability_zones" "available" {
  count = var.availability_zones == null ? 1 : 0
  state = "available"
}

locals {
  zones = slice(
    coalesce(var.availability_zones, try(data.aws_availability_zones.available[0].names, [])),
    0,
    2,
  )
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_subnet" "public" {
  count             = length(local.zones)
  vpc_id            = aws_vpc.this.id
  availability_zone = local.zones[count.index]
  cidr_block        = cidrsubnet(var.cidr_block, 4, count.index)
  tags              = { Name = "${var.name}-public-${count.index}" }
}

resource "aws_subnet" "private" {
  count             = length(local.zones)
  vpc_id            = aws_vpc.this.id
  availability_zone = local.zones[count.index]
  cidr_block        = cidrsubnet(var.cidr_block, 4, count.index + 4)
  tags              = { Name = "${var.name}-private-${count.index}" }
}

resource "aws_subnet" "database" {
  count             = length(local.zones)
  vpc_id            = aws_vpc.this.id
  availability_zone = local.zones[count.index]
  cidr_block        = cidrsubnet(var.cidr_block, 4, count.index + 8)
  tags              = { Name = "${var.name}-database-${count.index}" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }
}

resource "aws_route_table_association" "public" {
  count          = length(local.zones)
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "HTTPS from the internet to the load balancer"
  vpc_id      = aws_vpc.this.id

  ingress {
    description = "HTTPS"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "to the services"
    from_port   = var.container_port
    to_port     = var.container_port
    protocol    = "tcp"
    cidr_blocks = [var.cidr_block]
  }
}

resource "aws_security_group" "service" {
  # checkov:skip=CKV2_AWS_5:attached by the ECS services of modules/petswipe_stack, outside this module
  name        = "${var.name}-service"
  description = "The service tasks, reachable from the load balancer only"
  vpc_id      = aws_vpc.this.id

  ingress {
    description     = "from the load balancer"
    from_port       = var.container_port
    to_port         = var.container_port
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }

  # trivy:ignore:AVD-AWS-0104 the tasks reach ECR, Secrets Manager and CloudWatch Logs over HTTPS without VPC endpoints
  egress {
    description = "HTTPS to the AWS APIs (no VPC endpoints)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "PostgreSQL inside the VPC"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = [var.cidr_block]
  }
}

resource "aws_security_group" "database" {
  name        = "${var.name}-database"
  description = "PostgreSQL from the service tasks only"
  vpc_id      = aws_vpc.this.id

  ingress {
    description     = "PostgreSQL"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.service.id]
  }
}

# trivy:ignore:AVD-AWS-0053 the public API's entry point: it must face the internet
resource "aws_lb" "this" {
  # checkov:skip=CKV2_AWS_28:no WAF yet; the API rate-limits in the service
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  drop_invalid_header_fields = true
  subnets                    = aws_subnet.public[*].id
  security_groups            = [aws_security_group.alb.id]
}

resource "aws_acm_certificate" "this" {
  domain_name       = var.domain_name
  validation_method = "DNS"
}

resource "aws_ecs_cluster" "this" {
  name = "${var.name}-cluster"

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

data "aws_iam_policy_document" "ecs_tasks" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "backup" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks.json
}

# Inline, least-privilege policies (no AWS-managed ones): pull the image, write logs, read
# the service's own secrets.
data "aws_iam_policy_document" "execution" {
  statement {
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
    ]
    resources = ["arn:aws:ecr:*:*:repository/petswipe/*"]
  }

  # checkov:skip=CKV_AWS_356:ecr:GetAuthorizationToken has no resource to scope to: AWS requires "*"
  statement {
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:aws:logs:*:*:log-group:/ecs/${var.name}-*:*"]
  }

  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:aws:secretsmanager:*:*:secret:${var.secrets_prefix}*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "${var.name}-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks.json
}

resource "aws_iam_role" "backup" {
  name               = "${var.name}-backup"
  assume_role_policy = data.aws_iam_policy_document.backup.json
}

data "aws_iam_policy_document" "backup_access" {
  statement {
    actions = [
      "rds:CreateDBSnapshot", "rds:DescribeDBSnapshots", "rds:CopyDBSnapshot", "rds:AddTagsToResource",
      "rds:DescribeDBInstances", "rds:ListTagsForResource", "rds:DeleteDBSnapshot",
    ]
    resources = ["arn:aws:rds:*:*:db:${var.name}", "arn:aws:rds:*:*:snapshot:${var.name}-*"]
  }
}

resource "aws_iam_role_policy" "backup" {
  name   = "${var.name}-backup"
  role   = aws_iam_role.backup.id
  policy = data.aws_iam_policy_document.backup_access.json
}

# The value is set outside terraform (the rotation writes it), so no secret is in the state.
resource "aws_secretsmanager_secret" "database_url" {
  name                    = "${var.secrets_prefix}DATABASE_URL"
  recovery_window_in_days = var.secret_recovery_window_days
}
