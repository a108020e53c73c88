"""MetricsSources on AWS: CloudWatch ALB target-group metrics, or PromQL over a Prometheus API.

Both return the seam's cumulative VersionMetrics (counts since the source was opened), so
the canary engine's window arithmetic is the same as on the local sandbox. 4xx responses
are carried in `AlbVersionMetrics.client_errors`, a VersionMetrics subclass, until
VersionMetrics itself has that field.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import Field

from petswipe_ops import http_client
from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.metrics import LATENCY_METRIC, REQUESTS_METRIC, VersionMetrics
from petswipe_ops.platform.aws.clients import AwsClients
from petswipe_ops.platform.aws.errors import AwsError, aws_call
from petswipe_ops.platform.aws.outputs import StackOutputs, target_group_suffix
from petswipe_ops.platform.seams import VersionInstance

NAMESPACE = "AWS/ApplicationELB"
# Latency bucket bounds (s), those of the reference service's histogram.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0)
PERCENTILES = ("p50", "p95", "p99")
PERIOD_S = 60


class AlbVersionMetrics(VersionMetrics):
    """VersionMetrics plus the 4xx count the ALB reports (HTTPCode_Target_4XX_Count)."""

    client_errors: int = Field(0, description="responses with a 4xx status")


class CloudWatchMetrics:
    """Per target group, from GetMetricData over [opened, now].

    `latency_statistics` adds the TargetResponseTime percentiles and trimmed counts
    (TC(:bound) = requests at most `bound` seconds, the cumulative histogram). moto computes
    neither, so the AWS sandbox opens this source without them; there the latency gate
    reads the `prometheus` source, and the request shape is checked against botocore's model.
    """

    def __init__(
        self,
        clients: AwsClients,
        outputs: StackOutputs,
        *,
        latency_statistics: bool = True,
        opened: datetime | None = None,
    ) -> None:
        self.cloudwatch = clients("cloudwatch")
        self.endpoint = clients.endpoint_url
        self.outputs = outputs
        self.latency_statistics = latency_statistics
        self.opened = opened or datetime.now(UTC)

    def queries(self, role: str) -> list[dict[str, Any]]:
        """The GetMetricData queries of one target group (ids: counts, then latency stats)."""
        dims = self.outputs.alb_dimensions(role)

        def stat(query_id: str, metric: str, statistic: str) -> dict[str, Any]:
            return {
                "Id": query_id,
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dims},
                    "Period": PERIOD_S,
                    "Stat": statistic,
                },
                "ReturnData": True,
            }

        queries = [
            stat("requests", "RequestCount", "Sum"),
            stat("errors", "HTTPCode_Target_5XX_Count", "Sum"),
            stat("client_errors", "HTTPCode_Target_4XX_Count", "Sum"),
            stat("latency_sum", "TargetResponseTime", "Sum"),
            stat("latency_count", "TargetResponseTime", "SampleCount"),
        ]
        if self.latency_statistics:
            queries += [stat(p, "TargetResponseTime", p) for p in PERCENTILES]
            queries += [
                stat(f"le_{i}", "TargetResponseTime", f"TC(:{bound})")
                for i, bound in enumerate(BUCKETS)
            ]
        return queries

    def request(self, role: str, now: datetime | None = None) -> dict[str, Any]:
        end = (now or datetime.now(UTC)) + timedelta(seconds=PERIOD_S)
        start = self.opened.replace(second=0, microsecond=0)
        return {
            "MetricDataQueries": self.queries(role),
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }

    def fetch(self, role: str) -> dict[str, list[float]]:
        request = self.request(role)
        values: dict[str, list[float]] = {}
        resource = f"CloudWatch metrics of target group {self.outputs.target_group(role)}"
        with aws_call("read", resource, endpoint=self.endpoint):
            for page in self.cloudwatch.get_paginator("get_metric_data").paginate(**request):
                for result in page["MetricDataResults"]:
                    values.setdefault(result["Id"], []).extend(
                        v for v in result["Values"] if v is not None
                    )
        return values

    def read(self, instance: VersionInstance) -> AlbVersionMetrics:
        try:
            values = self.fetch(instance.role)
        except AwsError as exc:
            raise MetricsUnavailable(str(exc)) from exc
        total = {k: sum(v) for k, v in values.items()}
        buckets: dict[float, int] = {}
        if self.latency_statistics and "latency_count" in total:
            buckets = {b: int(total.get(f"le_{i}", 0)) for i, b in enumerate(BUCKETS)}
            buckets[math.inf] = int(total["latency_count"])
        return AlbVersionMetrics(
            requests=int(total.get("requests", 0)),
            errors=int(total.get("errors", 0)),
            client_errors=int(total.get("client_errors", 0)),
            buckets=buckets,
            latency_sum_seconds=total.get("latency_sum", 0.0),
        )

    def percentiles(self, instance: VersionInstance) -> dict[str, float | None]:
        """CloudWatch's own p50/p95/p99 (ms) over the latest period, for the report."""
        values = self.fetch(instance.role)
        return {p: (values[p][-1] * 1000 if values.get(p) else None) for p in PERCENTILES}


class PrometheusMetrics:
    """PromQL over a Prometheus HTTP API (Amazon Managed Prometheus, or the sandbox's own).

    Series carry a `target_group` label (the target group's ARN suffix); counters are
    summed over a target group's tasks, so a task restart resets only its own share.
    """

    def __init__(self, url: str, outputs: StackOutputs, *, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.outputs = outputs
        self.timeout = timeout

    def query(self, promql: str) -> list[dict[str, Any]]:
        try:
            reply = http_client.get(
                f"{self.url}/api/v1/query", params={"query": promql}, timeout=self.timeout
            )
            reply.raise_for_status()
            body = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise MetricsUnavailable(
                f"could not query the Prometheus API at {self.url} ({type(exc).__name__}); "
                "check aws.prometheus_url or start the AWS sandbox with make aws-sandbox-up."
            ) from exc
        if body.get("status") != "success":
            raise MetricsUnavailable(
                f"the Prometheus API at {self.url} refused {promql!r}: {body.get('error')}; "
                "fix the query or the server."
            )
        return body["data"]["result"]

    def _sum(self, promql: str) -> float:
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else 0.0

    def read(self, instance: VersionInstance) -> AlbVersionMetrics:
        group = f'target_group="{target_group_suffix(self.outputs.target_group(instance.role))}"'
        requests = f"{REQUESTS_METRIC}_total"
        buckets = {
            float(s["metric"]["le"]): int(float(s["value"][1]))
            for s in self.query(f"sum by (le) ({LATENCY_METRIC}_bucket{{{group}}})")
        }
        return AlbVersionMetrics(
            requests=int(self._sum(f"sum({requests}{{{group}}})")),
            errors=int(self._sum(f'sum({requests}{{{group},code=~"5.."}})')),
            client_errors=int(self._sum(f'sum({requests}{{{group},code=~"4.."}})')),
            buckets=buckets,
            latency_sum_seconds=self._sum(f"sum({LATENCY_METRIC}_sum{{{group}}})"),
        )


class SandboxCloudWatchMetrics:
    """The `cloudwatch` source on the AWS sandbox: counts from moto's CloudWatch, latency
    histogram from the sandbox's Prometheus.

    moto computes no percentile or trimmed-count statistics, so the one thing CloudWatch
    cannot give there (the latency distribution) is taken from the same tasks' histograms;
    on AWS itself `CloudWatchMetrics` reads all of it from CloudWatch.
    """

    def __init__(self, counts: CloudWatchMetrics, latency: PrometheusMetrics) -> None:
        self.counts = counts
        self.latency = latency

    def read(self, instance: VersionInstance) -> AlbVersionMetrics:
        counts = self.counts.read(instance)
        histogram = self.latency.read(instance)
        return counts.model_copy(update={"buckets": histogram.buckets})
