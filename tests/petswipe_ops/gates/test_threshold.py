import math

import pytest

from petswipe_ops.config import Slo
from petswipe_ops.gates import GateInput, ThresholdGate, Verdict
from petswipe_ops.metrics import VersionMetrics

SLO = Slo()


def window(requests: int, errors: int = 0, slow: int = 0, very_slow: int = 0) -> VersionMetrics:
    fast = requests - slow - very_slow
    return VersionMetrics(
        requests=requests,
        errors=errors,
        buckets={0.05: fast, 0.5: fast, 0.75: fast + slow, 1.0: fast + slow, math.inf: requests},
    )


def decide(candidate: VersionMetrics, min_requests: int = 200):
    return ThresholdGate().evaluate(
        GateInput(candidate=candidate, stable=window(500), slo=SLO, min_requests=min_requests)
    )


def test_too_little_traffic_is_never_a_pass_and_says_how_many_more():
    decision = decide(window(120))
    assert decision.verdict is Verdict.CONTINUE
    assert decision.needed_requests == 80


def test_healthy_window_at_the_minimum_is_promoted():
    decision = decide(window(200))
    assert decision.verdict is Verdict.PROMOTE
    assert decision.evidence["candidate"]["requests"] == 200


def test_errors_beyond_the_slo_roll_back_before_the_minimum():
    decision = decide(window(30, errors=1))
    assert decision.verdict is Verdict.ROLLBACK
    assert "error rate" in decision.reason


def test_error_rate_within_slo_passes():
    decision = decide(window(2000, errors=1))
    assert decision.verdict is Verdict.PROMOTE


def test_slow_requests_fail_the_p95_gate_early():
    decision = decide(window(20, slow=11))
    assert decision.verdict is Verdict.ROLLBACK
    assert decision.reason.startswith("p95 latency")


def test_p99_gate_catches_a_slow_tail():
    decision = decide(window(1000, very_slow=20))
    assert decision.verdict is Verdict.ROLLBACK
    assert decision.reason.startswith("p99 latency")


@pytest.mark.parametrize("slow", [0, 5])
def test_a_few_slow_requests_within_budget_pass(slow):
    assert decide(window(400, slow=slow)).verdict is Verdict.PROMOTE


def test_a_candidate_answering_4xx_far_more_than_the_stable_is_rolled_back():
    rejecting = window(20).model_copy(update={"client_errors": 20})
    decision = decide(rejecting)
    assert decision.verdict is Verdict.ROLLBACK
    assert decision.reason.startswith("client errors: 20 4xx in 20 requests")


def test_4xx_at_the_stables_rate_pass():
    stable = window(500).model_copy(update={"client_errors": 25})
    candidate = window(200).model_copy(update={"client_errors": 10})
    decision = ThresholdGate().evaluate(
        GateInput(candidate=candidate, stable=stable, slo=SLO, min_requests=200)
    )
    assert decision.verdict is Verdict.PROMOTE


def test_no_histogram_is_no_pass():
    decision = decide(VersionMetrics(requests=500))
    assert decision.verdict is Verdict.CONTINUE
    assert "no latency histogram" in decision.reason


def test_the_threshold_gate_waits_out_the_bake_time_too():
    observation = GateInput(
        candidate=window(200), stable=window(500), slo=SLO, min_requests=200, min_seconds=10
    )
    assert ThresholdGate().evaluate(observation).verdict is Verdict.CONTINUE
    baked = observation.model_copy(update={"elapsed_seconds": 10.0})
    assert ThresholdGate().evaluate(baked).verdict is Verdict.PROMOTE
