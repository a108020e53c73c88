"""Per-version request metrics: cumulative counters, windows between two reads, quantiles.

Counters are cumulative (Prometheus semantics), so a gate looks at the difference
between a read at the start of a canary step and the latest read: the window.
"""

from __future__ import annotations

import math

from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ConfigDict, Field

REQUESTS_METRIC = "petswipe_http_requests"
LATENCY_METRIC = "petswipe_http_request_duration_seconds"


class VersionMetrics(BaseModel):
    """Cumulative counts of one version: requests, server errors, latency histogram."""

    model_config = ConfigDict(frozen=True)

    requests: int = 0
    errors: int = Field(0, description="responses with a 5xx status")
    buckets: dict[float, int] = Field(
        default_factory=dict, description="cumulative histogram: upper bound (s) -> count"
    )
    latency_sum_seconds: float = 0.0

    def __sub__(self, earlier: VersionMetrics) -> VersionMetrics:
        """The window between `earlier` and this read (a restart resets to this read)."""
        if self.requests < earlier.requests:
            return self
        return VersionMetrics(
            requests=self.requests - earlier.requests,
            errors=self.errors - earlier.errors,
            buckets={le: n - earlier.buckets.get(le, 0) for le, n in self.buckets.items()},
            latency_sum_seconds=self.latency_sum_seconds - earlier.latency_sum_seconds,
        )

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

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
    requests = errors = 0
    buckets: dict[float, int] = {}
    latency_sum = 0.0
    for family in text_string_to_metric_families(text):
        if family.name == REQUESTS_METRIC:
            for sample in family.samples:
                if not sample.name.endswith("_total"):
                    continue
                count = int(sample.value)
                requests += count
                if sample.labels.get("code", "").startswith("5"):
                    errors += count
        elif family.name == LATENCY_METRIC:
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    bound = float(sample.labels["le"])
                    buckets[bound] = buckets.get(bound, 0) + int(sample.value)
                elif sample.name.endswith("_sum"):
                    latency_sum += sample.value
    return VersionMetrics(
        requests=requests, errors=errors, buckets=buckets, latency_sum_seconds=latency_sum
    )
