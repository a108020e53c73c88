"""SLIs from CloudWatch's ALB metrics, for AWS environments without a Prometheus.

Router availability counts the load balancer's 5xx (its own and its targets') against all
its requests; the service error rate counts the target groups' 5xx against their
requests. CloudWatch keeps no latency histogram (only percentile statistics), so the
latency SLOs have no data here: configure `slo_alerting.prometheus_url` for them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from petswipe_ops.config import EnvironmentConfig, EventsIndicator, SloSpec
from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.platform.aws.outputs import target_group_suffix
from petswipe_ops.slo.source import EventCounts, EventSeries

NAMESPACE = "AWS/ApplicationELB"


class CloudWatchSource:
    def __init__(self, client: Any, load_balancer: str, target_groups: list[str]) -> None:
        self.client = client
        self.load_balancer = load_balancer
        self.target_groups = target_groups
        self.name = f"cloudwatch {load_balancer}"

    @classmethod
    def for_environment(cls, config: EnvironmentConfig) -> CloudWatchSource:
        """The load balancer and target groups of the environment's applied stack, read at
        the endpoint its releases use (AWS, or the running AWS sandbox)."""
        from petswipe_ops.platform.aws.platform import AwsPlatform

        platform = AwsPlatform(config)
        outputs = platform.outputs
        return cls(
            platform.clients("cloudwatch"),
            outputs.load_balancer_arn_suffix,
            [
                target_group_suffix(outputs.stable_target_group_arn),
                target_group_suffix(outputs.canary_target_group_arn),
            ],
        )

    def _metrics(self, slo: SloSpec) -> dict[str, list[tuple[str, list[dict]]]] | None:
        indicator = slo.indicator
        if not isinstance(indicator, EventsIndicator):
            return None
        lb = [{"Name": "LoadBalancer", "Value": self.load_balancer}]
        if indicator.source == "router":
            return {
                "bad": [("HTTPCode_ELB_5XX_Count", lb), ("HTTPCode_Target_5XX_Count", lb)],
                "total": [("RequestCount", lb)],
            }
        groups = [[*lb, {"Name": "TargetGroup", "Value": tg}] for tg in self.target_groups]
        return {
            "bad": [("HTTPCode_Target_5XX_Count", dims) for dims in groups],
            "total": [("RequestCount", dims) for dims in groups],
        }

    def _sums(self, slo: SloSpec, start: float, end: float, period: int) -> dict[str, dict]:
        metrics = self._metrics(slo)
        if metrics is None:
            return {}
        queries, kinds = [], {}
        for kind, entries in metrics.items():
            for i, (name, dims) in enumerate(entries):
                ident = f"{kind}{i}"
                kinds[ident] = kind
                queries.append(
                    {
                        "Id": ident,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": NAMESPACE,
                                "MetricName": name,
                                "Dimensions": dims,
                            },
                            "Period": period,
                            "Stat": "Sum",
                        },
                    }
                )
        try:
            reply = self.client.get_metric_data(
                MetricDataQueries=queries,
                StartTime=datetime.fromtimestamp(start, UTC),
                EndTime=datetime.fromtimestamp(end, UTC),
            )
        except (ClientError, BotoCoreError) as exc:
            raise MetricsUnavailable(
                f"CloudWatch did not return the ALB metrics of {self.load_balancer} "
                f"({type(exc).__name__}); check the region and cloudwatch:GetMetricData."
            ) from None
        sums: dict[str, dict[float, float]] = {"bad": {}, "total": {}}
        for result in reply["MetricDataResults"]:
            bucket = sums[kinds[result["Id"]]]
            for stamp, value in zip(result["Timestamps"], result["Values"], strict=True):
                at = stamp.timestamp()
                bucket[at] = bucket.get(at, 0.0) + value
        return sums

    def counts(self, slo: SloSpec, window_seconds: int, at: float) -> EventCounts | None:
        period = max(60, window_seconds // 60 * 60)
        sums = self._sums(slo, at - window_seconds, at, period)
        if not sums or not sums["total"]:
            return None
        return EventCounts(bad=sum(sums["bad"].values()), total=sum(sums["total"].values()))

    def series(self, slo: SloSpec, start: float, end: float, step: int) -> EventSeries:
        period = max(60, step // 60 * 60)
        sums = self._sums(slo, start - period, end, period)
        if not sums:
            return EventSeries(times=[], bad=[], total=[])
        times = sorted(sums["total"])
        return EventSeries(
            times=[t + period for t in times],
            bad=[sums["bad"].get(t, 0.0) for t in times],
            total=[sums["total"][t] for t in times],
        )
