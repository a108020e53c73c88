"""Where SLI history comes from: a small interface, a Prometheus HTTP API implementation.

A source answers two questions about one SLO: how many bad and total events fell in a
window ending at a time, and the same per step over a range (for the burn-down). The
Prometheus source asks the same PromQL the generated rules record; the CloudWatch source
(petswipe_ops.slo.cloudwatch) answers from ALB metric sums.
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict

from petswipe_ops import http_client
from petswipe_ops.config import SloSpec
from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.slo.queries import sli_queries


class EventCounts(BaseModel):
    """Bad and total events of one SLI over one window."""

    model_config = ConfigDict(frozen=True)

    bad: float
    total: float

    @property
    def error_ratio(self) -> float | None:
        return min(1.0, max(0.0, self.bad / self.total)) if self.total > 0 else None


class EventSeries(BaseModel):
    """Bad and total events per step, oldest first; `times` are each step's end."""

    times: list[float]
    bad: list[float]
    total: list[float]


@runtime_checkable
class SliSource(Protocol):
    """SLI history of one environment, whatever keeps it."""

    name: str

    def counts(self, slo: SloSpec, window_seconds: int, at: float) -> EventCounts | None:
        """Events in (at - window, at]; None when the source has no series for the SLI."""

    def series(self, slo: SloSpec, start: float, end: float, step: int) -> EventSeries:
        """Events per `step` seconds from `start` to `end`."""


def _seconds(window_seconds: int) -> str:
    return f"{int(window_seconds)}s"


class PrometheusSource:
    """SLIs from a Prometheus HTTP API (the sandbox's server, or one on AWS)."""

    def __init__(self, url: str, selector: str = "", timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.name = f"prometheus {self.url}"
        self.selector = selector
        self.client = http_client.client(base_url=self.url, timeout=timeout)

    def _get(self, path: str, params: dict[str, str]) -> list[dict]:
        try:
            reply = self.client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise MetricsUnavailable(
                f"Prometheus at {self.url} did not answer ({type(exc).__name__}); "
                "start it with `make sandbox-up` or set slo_alerting.prometheus_url."
            ) from None
        body = (
            reply.json()
            if reply.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        if reply.status_code != 200 or body.get("status") != "success":
            raise MetricsUnavailable(
                f"Prometheus at {self.url} refused a query ({reply.status_code}: "
                f"{body.get('error', reply.text[:200])})."
            )
        return body["data"]["result"]

    def _instant(self, query: str, at: float) -> float | None:
        result = self._get("/api/v1/query", {"query": query, "time": f"{at:.3f}"})
        if not result:
            return None
        value = float(result[0]["value"][1])
        return None if math.isnan(value) else value

    def counts(self, slo: SloSpec, window_seconds: int, at: float) -> EventCounts | None:
        bad_q, total_q = sli_queries(slo, self.selector).at(_seconds(window_seconds))
        total = self._instant(total_q, at)
        if total is None:
            return None
        bad = self._instant(bad_q, at) or 0.0
        return EventCounts(bad=bad * window_seconds, total=total * window_seconds)

    def _range(self, query: str, start: float, end: float, step: int) -> dict[float, float]:
        result = self._get(
            "/api/v1/query_range",
            {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step}s"},
        )
        if not result:
            return {}
        return {float(t): float(v) for t, v in result[0]["values"] if not math.isnan(float(v))}

    def series(self, slo: SloSpec, start: float, end: float, step: int) -> EventSeries:
        bad_q, total_q = sli_queries(slo, self.selector).at(_seconds(step))
        totals = self._range(total_q, start, end, step)
        bads = self._range(bad_q, start, end, step)
        times = sorted(totals)
        return EventSeries(
            times=times,
            bad=[max(0.0, bads.get(t, 0.0)) * step for t in times],
            total=[max(0.0, totals[t]) * step for t in times],
        )

    def close(self) -> None:
        self.client.close()
