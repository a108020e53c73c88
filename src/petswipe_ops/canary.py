"""One canary step: move traffic, then read both versions until the gate decides.

The engine knows nothing of Prefect or of the platform behind the seams; the
flow calls it once per configured step and reports what it returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel

from petswipe_ops.config import Canary, Slo, TimeoutPolicy
from petswipe_ops.gates import Gate, GateDecision, GateInput, Verdict
from petswipe_ops.platform.seams import MetricsSource, TrafficRouter, VersionInstance, Weights


class StepResult(BaseModel):
    weight: int
    verdict: Verdict
    decision: GateDecision
    router_weights: Weights
    duration_seconds: float
    observations: int
    timed_out: bool = False


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
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> StepResult:
    """Set the candidate to `weight` % and observe until a verdict or the step's time runs out."""
    router_weights = router.set_candidate_weight(weight)
    start_candidate, start_stable = metrics.read(candidate), metrics.read(stable)
    started = clock()
    observations = 0
    while True:
        sleep(canary.observe_interval_seconds)
        traffic_alive()
        elapsed = clock() - started
        decision = gate.evaluate(
            GateInput(
                candidate=metrics.read(candidate) - start_candidate,
                stable=metrics.read(stable) - start_stable,
                slo=slo,
                min_requests=canary.min_requests,
                elapsed_seconds=elapsed,
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
                    f"step {weight}% saw too little traffic in {canary.max_step_seconds:.0f} s: "
                    f"{decision.reason}, {decision.needed_requests} more needed"
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
