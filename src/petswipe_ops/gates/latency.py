"""Latency quantiles as counts: how many requests were slower than a threshold.

"p95 <= T" is the same claim as "at most 5 % of requests are slower than T", so a
latency gate can test a count of slow requests with the same sequential test as an
error count. Counts come from a Prometheus-style cumulative histogram, or from raw
samples turned into one (each distinct value a bound, so ties stay exact).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from petswipe_ops.metrics import VersionMetrics

Basis = Literal["slo", "stable"]


def slower_count(metrics: VersionMetrics, threshold_ms: float) -> float:
    """Requests slower than `threshold_ms`, interpolated inside a bucket as PromQL does.

    Exact at a bucket bound (a request equal to the bound is not slower: `le` is <=).
    Inside a bucket the count is spread evenly, the assumption `histogram_quantile`
    makes, so `slower_count(m, m.quantile(q))` is `(1 - q) * m.observed`. Past the last
    finite bound the whole overflow bucket counts as slower, the cautious reading.
    """
    total = metrics.observed
    if total == 0:
        return 0.0
    threshold = threshold_ms / 1000
    lower_bound, lower_count = 0.0, 0
    for bound in sorted(metrics.buckets):
        count = metrics.buckets[bound]
        if math.isinf(bound):
            return float(total - lower_count)
        if threshold <= bound:
            if threshold <= lower_bound:
                return float(total - lower_count)
            fraction = (threshold - lower_bound) / (bound - lower_bound)
            return total - (lower_count + fraction * (count - lower_count))
        lower_bound, lower_count = bound, count
    return float(total - lower_count)


class LatencyThreshold(BaseModel):
    """What a candidate's quantile is held to, and where that comes from.

    Requests slower than `rollback_ms` count towards a rollback; to be promoted the
    candidate must be shown to stay under `promote_ms`.
    """

    model_config = ConfigDict(frozen=True)

    quantile: float
    rollback_ms: float
    promote_ms: float
    basis: Basis
    stable_ms: float | None = None


def stable_observations_needed(quantile: float) -> int:
    """Stable requests before its quantile is trusted: ten expected beyond it."""
    return math.ceil(10 / (1 - quantile) - 1e-9)


def stable_misses_slo(stable: VersionMetrics, quantile: float, slo_ms: float) -> bool:
    """The stable's measured quantile is past the SLO, on enough requests to trust it.

    The stable is the control, not the one on trial: the question is only whether the
    environment as a whole misses the SLO right now. Asking it for the same sequential
    proof as the candidate would blame a candidate that happened to cross first for a
    slowdown both share (seen on a loaded host: stable p99 1216 ms, candidate 1370 ms,
    only the candidate's test past its boundary).
    """
    stable_ms = stable.quantile(quantile)
    trusted = stable.observed >= stable_observations_needed(quantile)
    return trusted and stable_ms is not None and stable_ms > slo_ms


def latency_threshold(
    quantile: float,
    slo_ms: float,
    stable: VersionMetrics,
    tolerance_ms: float,
    tolerance_ratio: float,
    stable_breaching: bool,
) -> LatencyThreshold:
    """The stricter of the SLO and the stable's own quantile plus the tolerance.

    The tolerance is `tolerance_ms` or `tolerance_ratio` of the stable's quantile,
    whichever is larger, so a fast service is not held to a few milliseconds and a slow
    one is not judged finer than its histogram's buckets can tell.

    Comparing with the stable in the same window catches a regression that still meets
    the SLO. When the stable itself breaches the SLO (a shared incident) the candidate is
    rolled back only past the stable plus the tolerance, so it is not blamed for the
    incident, yet it is promoted only within the SLO. A stable with too few requests
    for its quantile leaves the SLO alone in charge.
    """
    stable_ms = stable.quantile(quantile)
    enough = stable_breaching or stable.observed >= stable_observations_needed(quantile)
    if stable_ms is None or not enough:
        return LatencyThreshold(
            quantile=quantile, rollback_ms=slo_ms, promote_ms=slo_ms, basis="slo"
        )
    relative = stable_ms + max(tolerance_ms, tolerance_ratio * stable_ms)
    promote_ms = min(slo_ms, relative)
    return LatencyThreshold(
        quantile=quantile,
        rollback_ms=relative if stable_breaching else promote_ms,
        promote_ms=promote_ms,
        basis="stable" if stable_breaching or relative < slo_ms else "slo",
        stable_ms=stable_ms,
    )


def from_samples(
    latencies_ms: Sequence[float], errors: int = 0, bounds_ms: Sequence[float] | None = None
) -> VersionMetrics:
    """A window built from raw request latencies, for sources without a histogram.

    Without `bounds_ms` each distinct latency gets a bound at its value and one just
    below it, so every bucket holds one tied value or nothing and `slower_count` is
    exact at any threshold.
    """
    values = sorted(latencies_ms)
    seconds = [v / 1000 for v in values]
    if bounds_ms is None:
        edges = sorted({e for v in set(seconds) for e in (math.nextafter(v, -math.inf), v)})
    else:
        edges = sorted(b / 1000 for b in set(bounds_ms))
    buckets = {edge: bisect.bisect_right(seconds, edge) for edge in edges if edge > 0}
    buckets[math.inf] = len(values)
    return VersionMetrics(
        requests=len(values),
        errors=errors,
        buckets=buckets,
        latency_sum_seconds=sum(seconds),
    )
