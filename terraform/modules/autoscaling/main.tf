# Application Auto Scaling of one ECS service, four ways (the seed's scaling types):
# target tracking on CPU, memory and ALB requests per target; step scaling that adds tasks
# quickly and removes them slowly; scheduled capacity for business hours and weekends; and
# the predictive-scaling flow, which writes its own scheduled actions on this same target.
locals {
  resource_id = "service/${var.cluster_name}/${var.service_name}"

  target_tracking = {
    cpu = {
      metric = "ECSServiceAverageCPUUtilization"
      target = var.cpu_target_percent
      label  = null
    }
    memory = {
      metric = "ECSServiceAverageMemoryUtilization"
      target = var.memory_target_percent
      label  = null
    }
    requests = {
      metric = "ALBRequestCountPerTarget"
      target = var.requests_per_target
      label  = var.request_count_resource_label
    }
  }
}

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = local.resource_id
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
  tags               = var.tags
}

resource "aws_appautoscaling_policy" "target_tracking" {
  for_each = local.target_tracking

  name               = "${var.service_name}-${each.key}-target"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = each.value.target
    scale_out_cooldown = 60
    scale_in_cooldown  = 300

    predefined_metric_specification {
      predefined_metric_type = each.value.metric
      resource_label         = each.value.label
    }
  }
}

# Out: +50 % / +100 % / +200 % of the running tasks (at least 2) a minute apart.
resource "aws_appautoscaling_policy" "step_out" {
  name               = "${var.service_name}-step-out"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id

  step_scaling_policy_configuration {
    adjustment_type          = "PercentChangeInCapacity"
    min_adjustment_magnitude = 2
    cooldown                 = 60
    metric_aggregation_type  = "Maximum"

    step_adjustment {
      metric_interval_lower_bound = 0
      metric_interval_upper_bound = 10
      scaling_adjustment          = 50
    }

    step_adjustment {
      metric_interval_lower_bound = 10
      metric_interval_upper_bound = 20
      scaling_adjustment          = 100
    }

    step_adjustment {
      metric_interval_lower_bound = 20
      scaling_adjustment          = 200
    }
  }
}

# In: one task at a time, ten minutes apart.
resource "aws_appautoscaling_policy" "step_in" {
  name               = "${var.service_name}-step-in"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = 600
    metric_aggregation_type = "Average"

    step_adjustment {
      metric_interval_upper_bound = 0
      scaling_adjustment          = -1
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "cpu_high" {
  alarm_name          = "${var.service_name}-cpu-high"
  namespace           = "AWS/ECS"
  metric_name         = "CPUUtilization"
  dimensions          = { ClusterName = var.cluster_name, ServiceName = var.service_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.step_out_cpu_percent
  alarm_actions       = [aws_appautoscaling_policy.step_out.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "cpu_low" {
  alarm_name          = "${var.service_name}-cpu-low"
  namespace           = "AWS/ECS"
  metric_name         = "CPUUtilization"
  dimensions          = { ClusterName = var.cluster_name, ServiceName = var.service_name }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 15
  comparison_operator = "LessThanOrEqualToThreshold"
  threshold           = var.step_in_cpu_percent
  alarm_actions       = [aws_appautoscaling_policy.step_in.arn]
  tags                = var.tags
}

resource "aws_appautoscaling_scheduled_action" "business_hours" {
  name               = "${var.service_name}-business-hours"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id
  schedule           = "cron(0 8 ? * MON-FRI *)"
  timezone           = var.timezone

  scalable_target_action {
    min_capacity = var.business_hours_min_capacity
    max_capacity = var.max_capacity
  }
}

resource "aws_appautoscaling_scheduled_action" "after_hours" {
  name               = "${var.service_name}-after-hours"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id
  schedule           = "cron(0 20 ? * MON-FRI *)"
  timezone           = var.timezone

  scalable_target_action {
    min_capacity = var.min_capacity
    max_capacity = var.max_capacity
  }

  depends_on = [aws_appautoscaling_scheduled_action.business_hours]
}

resource "aws_appautoscaling_scheduled_action" "weekend" {
  name               = "${var.service_name}-weekend"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id
  schedule           = "cron(0 0 ? * SAT *)"
  timezone           = var.timezone

  scalable_target_action {
    min_capacity = var.min_capacity
    max_capacity = var.weekend_max_capacity
  }

  depends_on = [aws_appautoscaling_scheduled_action.after_hours]
}
