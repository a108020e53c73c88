"""One canary step: move traffic, then read both versions until the gate decides.

The engine knows nothing of Prefect or of the platform behind the seams; the
flow calls it once per configured step and reports what it returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel

from petswipe_ops.config import Canary, Slo, TimeoutPolicy
from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.gates import Gate, GateDecision, GateInput, Verdict
from petswipe_ops.metrics import VersionMetrics
from petswipe_ops.platform.seams import MetricsSource, TrafficRouter, VersionInstance, Weights


class StepResult(BaseModel):
    weight: int
    verdict: Verdict
    decision: GateDecision
    router_weights: Weights
    duration_seconds: float
    observations: int
    timed_out: bool = False


class ForgivingReader:
    """Reads both versions, forgiving up to `limit` failed reads in a row.

    A scrape that times out on a busy host says nothing about the candidate, so one
    must not roll it back; a source that stays unreachable still ends the step.
    """

    def __init__(
        self,
        metrics: MetricsSource,
        limit: int,
        on_error: Callable[[MetricsUnavailable, int], None],
    ) -> None:
        self.metrics, self.limit, self.on_error = metrics, limit, on_error
        self.failures = 0

    def read(
        self, candidate: VersionInstance, stable: VersionInstance
    ) -> tuple[VersionMetrics, VersionMetrics] | None:
        """Both versions' metrics, or None for a forgiven failure."""
        try:
            pair = self.metrics.read(candidate), self.metrics.read(stable)
        except MetricsUnavailable as exc:
            self.failures += 1
            if self.failures > self.limit:
                raise MetricsUnavailable(
                    f"{exc} It failed {self.failures} times in a row "
                    f"(canary.metric_error_limit is {self.limit})."
                ) from exc
            self.on_error(exc, self.failures)
            return None
        self.failures = 0
        return pair


class Windows:
    """Both versions' windows since the step's first read, summed from read to read.

    Each read is taken against the one before it, so a counter reset (a restarted
    process) costs only what that process had counted, never the rest of the step.
    """

    def __init__(self, first: tuple[VersionMetrics, VersionMetrics]) -> None:
        self.last = first
        self.window = (VersionMetrics(), VersionMetrics())

    def advance(self, now: tuple[VersionMetrics, VersionMetrics]) -> tuple[VersionMetrics, ...]:
        self.window = tuple(
            total + (read - before)
            for total, read, before in zip(self.window, now, self.last, strict=True)
        )
        self.last = now
        return self.window


def run_step(
    *,
    weight: int,
    router: TrafficRouter,
    metrics: MetricsSource,
    candidate: VersionInstance,
    stable: VersionInstance,
    gate: Gate,
    canary: Canary,
    slo: Slo,
    on_observation: Callable[[GateDecision, float], None] = lambda decision, elapsed: None,
    traffic_alive: Callable[[], None] = lambda: None,
    on_read_error: Callable[[MetricsUnavailable, int], None] = lambda exc, failures: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> StepResult:
    """Set the candidate to `weight` % and observe until a verdict or the step's time runs out."""
    router_weights = router.set_candidate_weight(weight)
    reader = ForgivingReader(metrics, canary.metric_error_limit, on_read_error)
    while (start := reader.read(candidate, stable)) is None:
        sleep(canary.observe_interval_seconds)
    windows = Windows(start)
    started = clock()
    observations = 0
    while True:
        sleep(canary.observe_interval_seconds)
        traffic_alive()
        if (now := reader.read(candidate, stable)) is None:
            continue
        elapsed = clock() - started
        window = windows.advance(now)
        decision = gate.evaluate(
            GateInput(
                candidate=window[0],
                stable=window[1],
                slo=slo,
                min_requests=canary.min_requests,
                elapsed_seconds=elapsed,
                min_seconds=canary.min_step_seconds,
            )
        )
        observations += 1
        on_observation(decision, elapsed)
        timed_out = decision.verdict is Verdict.CONTINUE and elapsed >= canary.max_step_seconds
        if decision.verdict is not Verdict.CONTINUE or timed_out:
            break
    if timed_out:
        decision = decision.model_copy(
            update={
                "verdict": Verdict.ROLLBACK
                if canary.on_timeout is TimeoutPolicy.ROLLBACK
                else Verdict.CONTINUE,
                "reason": (
                    f"step {weight}% reached no verdict in {canary.max_step_seconds:.0f} s: "
                    f"{decision.reason}, {decision.needed_requests} more requests needed"
                ),
            }
        )
    return StepResult(
        weight=weight,
        verdict=decision.verdict,
        decision=decision,
        router_weights=router_weights,
        duration_seconds=clock() - started,
        observations=observations,
        timed_out=timed_out,
    )
