"""Per-version request metrics: cumulative counters, windows between two reads, quantiles.

Counters are cumulative (Prometheus semantics), so a gate looks at the difference
between a read at the start of a canary step and the latest read: the window. A counter
that goes down means the process behind it restarted, and its counts start again.
"""

from __future__ import annotations

import math

from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ConfigDict, Field

REQUESTS_METRIC = "petswipe_http_requests"
LATENCY_METRIC = "petswipe_http_request_duration_seconds"
SUM_SLACK = 1e-9
"""Relative rounding a float sum of several series may show without anything going down."""


class VersionMetrics(BaseModel):
    """Cumulative counts of one version: requests, 5xx and 4xx, latency histogram.

    `router_errors` are failures the router answered itself for this version's server
    (connection refused, reset, timed out): the version never counted them, users still
    got a 5xx, so they are part of `requests` and `errors` too, and kept apart so a
    restart of either side is told from the other's.
    """

    model_config = ConfigDict(frozen=True)

    requests: int = 0
    errors: int = Field(0, description="responses with a 5xx status, the router's included")
    client_errors: int = Field(0, description="responses with a 4xx status")
    router_errors: int = Field(0, description="5xx the router answered for this version")
    buckets: dict[float, int] = Field(
        default_factory=dict, description="cumulative histogram: upper bound (s) -> count"
    )
    latency_sum_seconds: float = 0.0

    @property
    def served(self) -> int:
        """Requests the version itself answered."""
        return self.requests - self.router_errors

    def restarted_since(self, earlier: VersionMetrics) -> bool:
        """Did any of the version's own counters go down since `earlier`?"""
        own = (
            (self.served, earlier.served),
            (self.errors - self.router_errors, earlier.errors - earlier.router_errors),
            (self.client_errors, earlier.client_errors),
            *((self.buckets.get(le, 0), n) for le, n in earlier.buckets.items()),
        )
        slack = SUM_SLACK * max(1.0, earlier.latency_sum_seconds)
        return any(now < before for now, before in own) or (
            self.latency_sum_seconds < earlier.latency_sum_seconds - slack
        )

    def __sub__(self, earlier: VersionMetrics) -> VersionMetrics:
        """The window between `earlier` and this read.

        A restart of the version (any of its counters down) or of the router (its count
        down) starts that side's counts again from zero, so the window holds this read's.
        """
        base = VersionMetrics() if self.restarted_since(earlier) else earlier
        router_base = 0 if self.router_errors < earlier.router_errors else earlier.router_errors
        router = self.router_errors - router_base
        served_errors = (self.errors - self.router_errors) - (base.errors - base.router_errors)
        return VersionMetrics(
            requests=self.served - base.served + router,
            errors=served_errors + router,
            client_errors=self.client_errors - base.client_errors,
            router_errors=router,
            buckets={le: n - base.buckets.get(le, 0) for le, n in self.buckets.items()},
            latency_sum_seconds=self.latency_sum_seconds - base.latency_sum_seconds,
        )

    def __add__(self, other: VersionMetrics) -> VersionMetrics:
        """Two consecutive windows as one."""
        bounds = self.buckets.keys() | other.buckets.keys()
        return VersionMetrics(
            requests=self.requests + other.requests,
            errors=self.errors + other.errors,
            client_errors=self.client_errors + other.client_errors,
            router_errors=self.router_errors + other.router_errors,
            buckets={
                le: self.buckets.get(le, 0) + other.buckets.get(le, 0) for le in sorted(bounds)
            },
            latency_sum_seconds=self.latency_sum_seconds + other.latency_sum_seconds,
        )

    def with_router_errors(self, count: int) -> VersionMetrics:
        """These counts plus `count` failures the router answered for the version."""
        return self.model_copy(
            update={
                "requests": self.requests + count,
                "errors": self.errors + count,
                "router_errors": self.router_errors + count,
            }
        )

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def client_error_rate(self) -> float:
        return self.client_errors / self.served if self.served > 0 else 0.0

    @property
    def observed(self) -> int:
        """Requests in the histogram (may lag `requests` by in-flight ones)."""
        return self.buckets.get(math.inf, 0)

    def quantile(self, q: float) -> float | None:
        """Latency quantile in ms, interpolated inside its bucket like PromQL's."""
        total = self.observed
        if total == 0:
            return None
        rank = q * total
        lower_bound, lower_count = 0.0, 0
        for bound in sorted(self.buckets):
            count = self.buckets[bound]
            if count >= rank:
                if math.isinf(bound):
                    return lower_bound * 1000
                width = count - lower_count
                fraction = (rank - lower_count) / width if width else 1.0
                return (lower_bound + (bound - lower_bound) * fraction) * 1000
            lower_bound, lower_count = bound, count
        return lower_bound * 1000

    def slower_than(self, ms: float) -> int:
        """Requests certainly slower than `ms`: above the first bucket bound >= ms."""
        bounds = [b for b in sorted(self.buckets) if b * 1000 >= ms]
        if not bounds:
            return 0
        return self.observed - self.buckets[bounds[0]]


def parse_prometheus(text: str) -> VersionMetrics:
    """Read the reference service's /metrics text into cumulative counts."""
    requests = errors = client_errors = 0
    buckets: dict[float, int] = {}
    latency_sum = 0.0
    for family in text_string_to_metric_families(text):
        if family.name == REQUESTS_METRIC:
            for sample in family.samples:
                if not sample.name.endswith("_total"):
                    continue
                count = int(sample.value)
                requests += count
                code = sample.labels.get("code", "")
                if code.startswith("5"):
                    errors += count
                elif code.startswith("4"):
                    client_errors += count
        elif family.name == LATENCY_METRIC:
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    bound = float(sample.labels["le"])
                    buckets[bound] = buckets.get(bound, 0) + int(sample.value)
                elif sample.name.endswith("_sum"):
                    latency_sum += sample.value
    return VersionMetrics(
        requests=requests,
        errors=errors,
        client_errors=client_errors,
        buckets=buckets,
        latency_sum_seconds=latency_sum,
    )
