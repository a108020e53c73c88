"""The JSON summary a k6 script writes from `handleSummary`, read into typed figures.

The scripts export the whole summary object, so the pipeline reads k6's own numbers
(percentiles, counts, threshold verdicts) instead of recomputing them from raw samples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from petswipe_ops.errors import ExternalCommandError


class Latency(BaseModel):
    """Request duration in milliseconds (k6's `http_req_duration`)."""

    avg: float
    min: float
    med: float
    max: float
    p50: float
    p90: float
    p95: float
    p99: float


class ThresholdResult(BaseModel):
    metric: str
    expression: str
    ok: bool

    @property
    def name(self) -> str:
        return f"{self.metric} {self.expression}"


class LoadSummary(BaseModel):
    """What one k6 run achieved, as a person reads it."""

    duration_s: float = Field(description="wall time of the test run as k6 measured it")
    requests: int
    rps: float
    error_rate: float = Field(description="share of requests k6 counted as failed")
    checks_rate: float | None = Field(description="share of passed checks; None without checks")
    latency: Latency | None = Field(description="None when no request completed")
    iterations: int
    dropped_iterations: int = Field(description="arrivals k6 skipped for lack of free VUs")
    vus_max: int
    thresholds: list[ThresholdResult]

    @property
    def failed_thresholds(self) -> list[ThresholdResult]:
        return [t for t in self.thresholds if not t.ok]

    @classmethod
    def from_k6(cls, data: dict[str, Any]) -> LoadSummary:
        """Read k6's summary object; a shape k6 never writes is an error, not zeros."""
        try:
            metrics: dict[str, Any] = data["metrics"]
            duration_ms = float(data["state"]["testRunDurationMs"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ExternalCommandError(
                "the k6 summary has no metrics or test duration; the script must return "
                "the whole summary object from handleSummary."
            ) from exc

        def values(name: str) -> dict[str, float]:
            return metrics.get(name, {}).get("values", {})

        duration = values("http_req_duration")
        latency = None
        if duration.get("count", 0) or "p(95)" in duration:
            missing = [k for k in ("p(50)", "p(90)", "p(95)", "p(99)") if k not in duration]
            if missing:
                raise ExternalCommandError(
                    f"the k6 summary lacks {', '.join(missing)} of http_req_duration; set "
                    "summaryTrendStats in the script's options."
                )
            latency = Latency(
                avg=duration["avg"],
                min=duration["min"],
                med=duration["med"],
                max=duration["max"],
                p50=duration["p(50)"],
                p90=duration["p(90)"],
                p95=duration["p(95)"],
                p99=duration["p(99)"],
            )
        thresholds = [
            ThresholdResult(metric=metric, expression=expression, ok=bool(verdict.get("ok")))
            for metric, body in sorted(metrics.items())
            for expression, verdict in body.get("thresholds", {}).items()
        ]
        checks = values("checks")
        return cls(
            duration_s=duration_ms / 1000.0,
            requests=int(values("http_reqs").get("count", 0)),
            rps=float(values("http_reqs").get("rate", 0.0)),
            error_rate=float(values("http_req_failed").get("rate", 0.0)),
            checks_rate=float(checks["rate"]) if "rate" in checks else None,
            latency=latency,
            iterations=int(values("iterations").get("count", 0)),
            dropped_iterations=int(values("dropped_iterations").get("count", 0)),
            vus_max=int(values("vus_max").get("value", values("vus_max").get("max", 0))),
            thresholds=thresholds,
        )

    @classmethod
    def read(cls, path: Path) -> LoadSummary:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise ExternalCommandError(
                f"k6 wrote no summary to {path}; the script must export handleSummary "
                "(load_tests/lib/scenario.js provides it)."
            ) from exc
        except json.JSONDecodeError as exc:
            raise ExternalCommandError(f"the k6 summary {path} is not valid JSON.") from exc
        return cls.from_k6(data)
