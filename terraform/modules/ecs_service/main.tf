# One Fargate service per track (stable or canary) behind its own target group.
resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = 30
}

resource "aws_ecs_task_definition" "this" {
  # checkov:skip=CKV_AWS_249:the execution and task roles are distinct roles of the platform stack, passed in
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arn

  container_definitions = jsonencode([
    {
      name                   = var.name
      image                  = "${var.image}:${var.image_tag}"
      essential              = true
      user                   = "10001"
      readonlyRootFilesystem = true
      privileged             = false
      linuxParameters        = { capabilities = { drop = ["ALL"], add = [] } }
      portMappings           = [{ containerPort = var.container_port, protocol = "tcp" }]
      secrets                = [for name, arn in var.secrets : { name = name, valueFrom = arn }]
      healthCheck = {
        command  = ["CMD-SHELL", "wget -qO- http://127.0.0.1:${var.container_port}${var.health_check_path} || exit 1"]
        interval = 15
        timeout  = 5
        retries  = 3
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = var.region
          awslogs-stream-prefix = var.name
        }
      }
    }
  ])
}

resource "aws_ecs_service" "this" {
  name            = var.name
  cluster         = var.cluster_arn
  task_definition = aws_ecs_task_definition.this.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = var.name
    container_port   = var.container_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # Never set here (the provider sends its default, DISABLED); moto's CreateService does not
  # echo it, which would leave every first apply one attribute short of a clean plan.
  lifecycle {
    ignore_changes = [availability_zone_rebalancing]
  }
}
