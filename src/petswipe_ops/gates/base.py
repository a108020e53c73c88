"""What every gate takes and returns, so the canary engine can use any of them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from petswipe_ops.config import Slo
from petswipe_ops.metrics import VersionMetrics


class Verdict(StrEnum):
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    CONTINUE = "continue"


class GateInput(BaseModel):
    """One canary step's window so far, for both versions."""

    model_config = ConfigDict(frozen=True)

    candidate: VersionMetrics
    stable: VersionMetrics
    slo: Slo
    min_requests: int
    elapsed_seconds: float = 0.0
    min_seconds: float = Field(0.0, description="bake time: no PROMOTE before it")


class GateDecision(BaseModel):
    """A verdict with the numbers it was taken on, kept for the release record."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    reason: str
    needed_requests: int = Field(0, description="candidate requests still needed to pass")
    evidence: dict[str, Any] = Field(default_factory=dict)


class Gate(Protocol):
    name: str

    def evaluate(self, observation: GateInput) -> GateDecision: ...


def bake(decision: GateDecision, observation: GateInput) -> GateDecision:
    """Hold a PROMOTE until the step has baked for `min_seconds`; other verdicts stand.

    Some faults need time rather than requests to show (a leak, a cache filling, a
    timer), so a step that gathered its evidence quickly still waits out its bake time.
    """
    evidence = {**decision.evidence, "min_step_seconds": observation.min_seconds}
    waiting = observation.min_seconds - observation.elapsed_seconds
    if decision.verdict is not Verdict.PROMOTE or waiting <= 0:
        return decision.model_copy(update={"evidence": evidence})
    return decision.model_copy(
        update={
            "verdict": Verdict.CONTINUE,
            "reason": (
                f"the evidence to promote is in ({decision.reason}), but the step bakes for "
                f"{observation.min_seconds:g} s: {waiting:.1f} s to go"
            ),
            "evidence": evidence,
        }
    )


def describe(metrics: VersionMetrics) -> dict[str, Any]:
    """The evidence a report shows for one version's window."""
    return {
        "requests": metrics.requests,
        "errors": metrics.errors,
        "error_rate": round(metrics.error_rate, 5),
        "client_errors": metrics.client_errors,
        "router_errors": metrics.router_errors,
        "p50_ms": _ms(metrics.quantile(0.50)),
        "p95_ms": _ms(metrics.quantile(0.95)),
        "p99_ms": _ms(metrics.quantile(0.99)),
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
