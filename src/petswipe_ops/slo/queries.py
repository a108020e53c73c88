"""PromQL for each SLI: the bad and total event rates over a window.

The local sandbox's Prometheus scrapes HAProxy's exporter (what users see at the router)
and each version's /metrics (what the service answered, and its latency histogram). A
Prometheus on AWS that scrapes the same names works unchanged; `selector` narrows every
series to one job or environment there.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from petswipe_ops.config import EventsIndicator, LatencyIndicator, SloSpec

ROUTER_FRONTEND = "petswipe_front"
ROUTER_RESPONSES = "haproxy_frontend_http_responses_total"
SERVICE_REQUESTS = "petswipe_http_requests_total"
SERVICE_LATENCY = "petswipe_http_request_duration_seconds"


class SliQueries(BaseModel):
    """Two PromQL templates with `{window}` left open: bad events and all events per second."""

    model_config = ConfigDict(frozen=True)

    bad: str
    total: str

    def at(self, window: str) -> tuple[str, str]:
        return self.bad.replace("{window}", window), self.total.replace("{window}", window)

    def error_ratio(self, window: str) -> str:
        bad, total = self.at(window)
        return f"({bad}) / ({total})"


def le_label(threshold_ms: float) -> str:
    """The `le` label the Python client writes for a bucket bound: 0.2, 0.5, 1.0."""
    return repr(float(threshold_ms / 1000))


def _matchers(*parts: str) -> str:
    present = [p for p in parts if p]
    return "{" + ",".join(present) + "}" if present else ""


def sli_queries(slo: SloSpec, selector: str = "") -> SliQueries:
    indicator = slo.indicator
    five_xx, server_error = 'code="5xx"', 'code=~"5.."'
    if isinstance(indicator, EventsIndicator) and indicator.source == "router":
        frontend = f'proxy="{ROUTER_FRONTEND}"'
        bad = ROUTER_RESPONSES + _matchers(frontend, five_xx, selector)
        total = ROUTER_RESPONSES + _matchers(frontend, selector)
        return SliQueries(
            bad=f"sum(rate({bad}[{{window}}])) or vector(0)",
            total=f"sum(rate({total}[{{window}}]))",
        )
    if isinstance(indicator, EventsIndicator):
        bad = SERVICE_REQUESTS + _matchers(server_error, selector)
        total = SERVICE_REQUESTS + _matchers(selector)
        return SliQueries(
            bad=f"sum(rate({bad}[{{window}}])) or vector(0)",
            total=f"sum(rate({total}[{{window}}]))",
        )
    assert isinstance(indicator, LatencyIndicator)
    bound = f'le="{le_label(indicator.threshold_ms)}"'
    count = f"{SERVICE_LATENCY}_count" + _matchers(selector)
    within = f"{SERVICE_LATENCY}_bucket" + _matchers(bound, selector)
    return SliQueries(
        bad=f"sum(rate({count}[{{window}}])) - sum(rate({within}[{{window}}]))",
        total=f"sum(rate({count}[{{window}}]))",
    )
