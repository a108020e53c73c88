"""Request-rate history from CloudWatch: the ALB target group's RequestCount per period."""

from __future__ import annotations

from datetime import datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError

from petswipe_ops.errors import ExternalCommandError
from petswipe_ops.platform.aws.clients import AwsClients
from petswipe_ops.platform.aws.outputs import StackOutputs
from petswipe_ops.scaling.forecast import Point

MAX_POINTS = 1440  # GetMetricStatistics returns at most 1440 datapoints a call


class CloudWatchRequestRate:
    """The stable target group's request rate: the users' load, which the plan sizes for."""

    def __init__(self, clients: AwsClients, outputs: StackOutputs) -> None:
        self.dimensions = outputs.alb_dimensions("stable")
        self.client = clients("cloudwatch")

    def request_rate(self, start: datetime, end: datetime, step_seconds: int) -> list[Point]:
        points: list[Point] = []
        chunk = timedelta(seconds=step_seconds * MAX_POINTS)
        cursor = start
        while cursor < end:
            until = min(end, cursor + chunk)
            try:
                reply = self.client.get_metric_statistics(
                    Namespace="AWS/ApplicationELB",
                    MetricName="RequestCount",
                    Dimensions=self.dimensions,
                    StartTime=cursor,
                    EndTime=until,
                    Period=step_seconds,
                    Statistics=["Sum"],
                )
            except (ClientError, BotoCoreError) as exc:
                raise ExternalCommandError(
                    f"CloudWatch get_metric_statistics failed: {exc}; check the credentials."
                ) from exc
            points += [
                Point(at=d["Timestamp"], value=d["Sum"] / step_seconds)
                for d in reply.get("Datapoints", [])
            ]
            cursor = until
        return sorted(points, key=lambda p: p.at)
