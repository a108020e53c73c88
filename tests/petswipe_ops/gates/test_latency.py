import math
import random

import pytest

from petswipe_ops.config import Slo
from petswipe_ops.gates import GateInput, Verdict
from petswipe_ops.gates.latency import from_samples, latency_threshold, slower_count
from petswipe_ops.gates.sequential import SequentialGate
from petswipe_ops.metrics import VersionMetrics

SLO = Slo()
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0)


def histogram(latencies_s: list[float], errors: int = 0) -> VersionMetrics:
    """Latencies recorded in the reference service's buckets."""
    buckets = {b: sum(1 for x in latencies_s if x <= b) for b in BOUNDS}
    buckets[math.inf] = len(latencies_s)
    return VersionMetrics(requests=len(latencies_s), errors=errors, buckets=buckets)


def decide(candidate: VersionMetrics, stable: VersionMetrics):
    return SequentialGate().evaluate(
        GateInput(candidate=candidate, stable=stable, slo=SLO, min_requests=1)
    )


def test_slower_count_is_exact_at_bounds_and_interpolated_inside_a_bucket():
    metrics = histogram([0.05] * 80 + [0.3] * 20)
    assert slower_count(metrics, 250) == 20
    assert slower_count(metrics, 500) == 0
    assert slower_count(metrics, 375) == pytest.approx(10)


def test_slower_count_agrees_with_the_promql_quantile():
    metrics = histogram([0.02 * i for i in range(1, 101)])
    for q in (0.5, 0.95, 0.99):
        assert slower_count(metrics, metrics.quantile(q)) == pytest.approx((1 - q) * 100)


def test_a_request_equal_to_the_threshold_is_not_slower():
    tied = from_samples([500.0] * 30)
    assert slower_count(tied, 500) == 0
    assert slower_count(tied, 499) == 30


def test_raw_samples_keep_ties_together_and_count_exactly():
    samples = from_samples([100.0, 100.0, 100.0, 250.0], errors=1)
    assert (samples.requests, samples.errors, samples.observed) == (4, 1, 4)
    assert [slower_count(samples, ms) for ms in (99.9, 100, 180, 249.9, 250)] == [4, 1, 1, 1, 0]


def test_a_window_entirely_tied_at_the_slo_bound_is_promoted_not_rolled_back():
    stable = from_samples([500.0] * 3000)
    decision = decide(from_samples([500.0] * 300), stable)
    assert decision.verdict is Verdict.PROMOTE
    assert decision.evidence["latency"]["p95"]["bad"] == 0


def test_a_few_slow_requests_in_a_sparse_window_are_no_alarm():
    decision = decide(histogram([0.05, 2.0, 2.0]), histogram([0.05] * 3000))
    assert decision.verdict is Verdict.CONTINUE
    decision = decide(histogram([0.05] * 197 + [1.2] * 3), histogram([0.05] * 3000))
    assert decision.verdict is not Verdict.ROLLBACK


def test_six_slow_requests_in_a_row_are_enough_and_five_are_not():
    # Tail test of p95 against the SLO's 500 ms: alternatives 10 % (weight 0.2) and 22.5 %
    # (0.8) against 5 %; k of k slow gives 0.2 * 2^k + 0.8 * 4.5^k, which must reach
    # 1 / 0.00025 = 4000 (2.5 % of alpha): 1482 for k = 5, 6656 for k = 6.
    stable = histogram([0.05] * 50)
    assert decide(histogram([0.7] * 5), stable).verdict is Verdict.CONTINUE
    decision = decide(histogram([0.7] * 6), stable)
    assert decision.verdict is Verdict.ROLLBACK
    assert decision.reason.startswith("p95 latency: 6 of 6 requests slower than 500 ms")


def test_the_stable_plus_tolerance_is_the_threshold_once_the_stable_is_well_measured():
    fast = histogram([0.02] * 100 + [0.04] * 1900)
    threshold = latency_threshold(0.95, 500, fast, 50, 0.2, stable_breaching=False)
    assert threshold.basis == "stable"
    assert threshold.rollback_ms == threshold.promote_ms == pytest.approx(fast.quantile(0.95) + 50)
    sparse = histogram([0.02] * 150)
    assert latency_threshold(0.95, 500, sparse, 50, 0.2, False).basis == "slo"


def test_a_stable_breaching_the_slo_neither_gets_the_candidate_rolled_back_nor_promoted():
    slow = histogram([0.7] * 3000)
    threshold = latency_threshold(0.95, 500, slow, 50, 0.2, stable_breaching=True)
    assert (threshold.basis, threshold.promote_ms) == ("stable", 500)
    assert threshold.rollback_ms > 700
    decision = decide(histogram([0.7] * 300), slow)
    assert decision.verdict is Verdict.CONTINUE
    assert decision.evidence["latency"]["p95"]["stable_breaching"] is True
    assert decide(histogram([1.2] * 300), slow).verdict is Verdict.ROLLBACK


def test_a_stable_past_the_slo_shares_the_blame_before_its_own_test_proves_it():
    """A loaded host, as a release once saw it at 50 %: the stable's p99 is past the SLO
    but its sequential test has not crossed, while the candidate's, a little slower, has."""
    stable = histogram([0.03] * 3854 + [1.25] * 60)
    p99 = SequentialGate().latency_tests[0.99]
    assert p99.log_e(60, 3914) < p99.rollback_at, "no proof for the stable"
    assert stable.quantile(0.99) > SLO.p99_ms

    shared = decide(histogram([0.03] * 3905 + [1.37] * 124), stable)
    assert shared.verdict is Verdict.CONTINUE, shared.reason
    assert shared.evidence["latency"]["p99"]["stable_breaching"] is True
    assert decide(histogram([0.03] * 3905 + [2.0] * 124), stable).verdict is Verdict.ROLLBACK


def test_a_candidate_300_ms_slower_than_the_stable_is_rolled_back_though_within_slo():
    rng = random.Random(7)
    stable = histogram([rng.lognormvariate(math.log(0.03), 0.4) for _ in range(3000)])
    candidate = histogram([rng.lognormvariate(math.log(0.03), 0.4) + 0.3 for _ in range(20)])
    assert candidate.quantile(0.95) < SLO.p95_ms
    decision = decide(candidate, stable)
    assert decision.verdict is Verdict.ROLLBACK
    assert "the stable's plus tolerance" in decision.reason


def test_identical_lumpy_histograms_raise_no_false_alarm_under_repeated_looks():
    """96 % of requests take exactly 20 ms and 4 % exactly 300 ms, in both versions."""
    rng = random.Random(11)
    rollbacks = 0
    for _trial in range(200):
        draws = {"candidate": [], "stable": []}
        for _ in range(30):
            for role, rps in (("candidate", 10), ("stable", 90)):
                draws[role] += [0.3 if rng.random() < 0.04 else 0.02 for _ in range(rps)]
            decision = decide(histogram(draws["candidate"]), histogram(draws["stable"]))
            if decision.verdict is not Verdict.CONTINUE:
                rollbacks += decision.verdict is Verdict.ROLLBACK
                break
    assert rollbacks <= 2, "at most 1 % false rollbacks over 200 steps"
