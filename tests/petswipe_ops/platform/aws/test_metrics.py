"""CloudWatch ALB metrics per target group, read through GetMetricData on a real moto server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import botocore.session
import pytest
from botocore.validate import validate_parameters

from petswipe_ops.platform.aws.metrics import (
    BUCKETS,
    NAMESPACE,
    AlbVersionMetrics,
    CloudWatchMetrics,
)
from petswipe_ops.platform.aws.outputs import target_group_suffix
from petswipe_ops.platform.seams import MetricsSource, VersionInstance

pytestmark = pytest.mark.integration


def instance(stack, role: str) -> VersionInstance:
    return VersionInstance(
        version="2.0.0", role=role, endpoint=stack.outputs.target_group(role), handle="-"
    )


def put_alb_metrics(stack, role: str, requests: int, errors_5xx: int, errors_4xx: int) -> None:
    dims = [
        {"Name": "TargetGroup", "Value": target_group_suffix(stack.outputs.target_group(role))},
        {"Name": "LoadBalancer", "Value": stack.outputs.load_balancer_arn_suffix},
    ]
    stack.client("cloudwatch").put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {"MetricName": "RequestCount", "Dimensions": dims, "Value": requests, "Unit": "Count"},
            {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims, "Value": errors_5xx},
            {"MetricName": "HTTPCode_Target_4XX_Count", "Dimensions": dims, "Value": errors_4xx},
            {
                "MetricName": "TargetResponseTime",
                "Dimensions": dims,
                "Values": [0.02, 0.2],
                "Counts": [requests - 10, 10],
                "Unit": "Seconds",
            },
        ],
    )


def test_counts_come_per_target_group_and_window(stack) -> None:
    opened = datetime.now(UTC) - timedelta(seconds=1)
    source = CloudWatchMetrics(
        stack.platform().clients, stack.outputs, latency_statistics=False, opened=opened
    )
    assert isinstance(source, MetricsSource)
    before = source.read(instance(stack, "candidate"))
    put_alb_metrics(stack, "candidate", requests=200, errors_5xx=10, errors_4xx=4)
    put_alb_metrics(stack, "candidate", requests=100, errors_5xx=0, errors_4xx=1)

    window = source.read(instance(stack, "candidate"))
    assert isinstance(window, AlbVersionMetrics)
    assert (window.requests, window.errors, window.client_errors) == (
        before.requests + 300,
        before.errors + 10,
        before.client_errors + 5,
    )
    # 190 responses at 20 ms and 10 at 200 ms, then 90 and 10: the distribution's sum.
    added = window.latency_sum_seconds - before.latency_sum_seconds
    assert added == pytest.approx(280 * 0.02 + 20 * 0.2)
    assert source.read(instance(stack, "stable")).requests == 0


def test_percentile_and_trimmed_count_queries_match_botocores_service_model(stack) -> None:
    """moto computes no percentile or trimmed-count statistics (it returns no values for
    them), so the request is checked against botocore's GetMetricData model instead."""
    source = CloudWatchMetrics(stack.platform().clients, stack.outputs, latency_statistics=True)
    request = source.request("candidate")
    model = botocore.session.get_session().get_service_model("cloudwatch")
    validate_parameters(request, model.operation_model("GetMetricData").input_shape)

    stats = {q["Id"]: q["MetricStat"]["Stat"] for q in request["MetricDataQueries"]}
    assert {stats["p50"], stats["p95"], stats["p99"]} == {"p50", "p95", "p99"}
    assert [stats[f"le_{i}"] for i in range(len(BUCKETS))] == [f"TC(:{b})" for b in BUCKETS]
    assert all(q["MetricStat"]["Period"] % 60 == 0 for q in request["MetricDataQueries"])
    metrics = {q["MetricStat"]["Metric"]["MetricName"] for q in request["MetricDataQueries"]}
    assert metrics == {
        "RequestCount",
        "HTTPCode_Target_5XX_Count",
        "HTTPCode_Target_4XX_Count",
        "TargetResponseTime",
    }


def test_trimmed_counts_become_the_cumulative_histogram() -> None:
    """The mapping from GetMetricData values to VersionMetrics, on what CloudWatch returns."""

    class Canned(CloudWatchMetrics):
        def __init__(self) -> None:
            self.latency_statistics = True

        def fetch(self, role: str) -> dict[str, list[float]]:
            counts = {f"le_{i}": [float(min(100, 10 * i))] for i in range(len(BUCKETS))}
            return {"requests": [60.0, 40.0], "errors": [2.0], "latency_count": [100.0], **counts}

    read = Canned().read(VersionInstance(version="v", role="candidate", endpoint="", handle=""))
    assert read.requests == 100 and read.errors == 2
    assert read.buckets[BUCKETS[3]] == 30 and read.observed == 100
    assert read.quantile(0.5) is not None
