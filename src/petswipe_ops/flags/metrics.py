"""Requests with a flag on against requests with it off, read from each version's /metrics.

The reference service counts every request that evaluated a flag in
`petswipe_flag_requests{flag, state, code}` and times it in
`petswipe_flag_request_duration_seconds{flag, state}`; summed over the running versions
they are the two sides a gate compares, like a canary's candidate and stable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel

from petswipe_ops import http_client
from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.metrics import VersionMetrics

REQUESTS = "petswipe_flag_requests"
LATENCY = "petswipe_flag_request_duration_seconds"


class FlagSides(BaseModel):
    on: VersionMetrics = VersionMetrics()
    off: VersionMetrics = VersionMetrics()

    def __sub__(self, earlier: FlagSides) -> FlagSides:
        return FlagSides(on=self.on - earlier.on, off=self.off - earlier.off)


def _add(a: VersionMetrics, b: VersionMetrics) -> VersionMetrics:
    return VersionMetrics(
        requests=a.requests + b.requests,
        errors=a.errors + b.errors,
        buckets={k: a.buckets.get(k, 0) + b.buckets.get(k, 0) for k in a.buckets | b.buckets},
        latency_sum_seconds=a.latency_sum_seconds + b.latency_sum_seconds,
    )


def parse_flag_metrics(text: str) -> dict[str, FlagSides]:
    """Per flag, the cumulative on/off counts in one /metrics text."""
    raw: dict[tuple[str, str], dict] = {}
    for family in text_string_to_metric_families(text):
        if family.name not in (REQUESTS, LATENCY):
            continue
        for sample in family.samples:
            key = (sample.labels.get("flag", ""), sample.labels.get("state", ""))
            entry = raw.setdefault(key, {"requests": 0, "errors": 0, "buckets": {}, "sum": 0.0})
            if family.name == REQUESTS and sample.name.endswith("_total"):
                entry["requests"] += int(sample.value)
                if sample.labels.get("code", "").startswith("5"):
                    entry["errors"] += int(sample.value)
            elif sample.name.endswith("_bucket"):
                bound = float(sample.labels["le"])
                entry["buckets"][bound] = entry["buckets"].get(bound, 0) + int(sample.value)
            elif sample.name.endswith("_sum"):
                entry["sum"] += sample.value
    sides: dict[str, FlagSides] = {}
    for (flag, state), e in raw.items():
        metrics = VersionMetrics(
            requests=e["requests"],
            errors=e["errors"],
            buckets=e["buckets"],
            latency_sum_seconds=e["sum"],
        )
        current = sides.setdefault(flag, FlagSides())
        if state == "on":
            sides[flag] = FlagSides(on=_add(current.on, metrics), off=current.off)
        elif state == "off":
            sides[flag] = FlagSides(on=current.on, off=_add(current.off, metrics))
    return sides


class ServiceFlagMetrics:
    """Sum of every running version's flag metrics (`endpoints()` lists their base URLs)."""

    def __init__(self, endpoints: Callable[[], Sequence[str]], timeout: float = 2.0) -> None:
        self.endpoints = endpoints
        self.timeout = timeout

    def read(self) -> dict[str, FlagSides]:
        total: dict[str, FlagSides] = {}
        for endpoint in self.endpoints():
            try:
                reply = http_client.get(f"{endpoint}/metrics", timeout=self.timeout)
                reply.raise_for_status()
            except httpx.HTTPError as exc:
                raise MetricsUnavailable(
                    f"could not read flag metrics at {endpoint}/metrics ({type(exc).__name__})."
                ) from None
            for flag, sides in parse_flag_metrics(reply.text).items():
                now = total.get(flag, FlagSides())
                total[flag] = FlagSides(on=_add(now.on, sides.on), off=_add(now.off, sides.off))
        return total
