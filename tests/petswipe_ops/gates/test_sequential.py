import json
import math
import random

import pytest

from petswipe_ops.canary import run_step
from petswipe_ops.config import Canary, SequentialGateSettings, Slo
from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.gates import GateInput, Verdict
from petswipe_ops.gates.budget import ErrorBudgetExhausted
from petswipe_ops.gates.sequential import RateTest, SequentialGate
from petswipe_ops.metrics import VersionMetrics
from petswipe_ops.platform.seams import VersionInstance, Weights

SLO = Slo()
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0)
ERRORS = SequentialGate().error_test(SLO)


def window(
    requests: int, errors: int = 0, latencies_s: list[float] | None = None
) -> VersionMetrics:
    """A window whose requests all took 50 ms unless latencies are given."""
    latencies = latencies_s if latencies_s is not None else [0.05] * requests
    buckets = {b: sum(1 for x in latencies if x <= b) for b in BOUNDS}
    buckets[math.inf] = len(latencies)
    return VersionMetrics(requests=requests, errors=errors, buckets=buckets)


HEALTHY_STABLE = window(2700, 2)


def decide(
    candidate: VersionMetrics,
    stable: VersionMetrics = HEALTHY_STABLE,
    *,
    gate: SequentialGate | None = None,
    min_requests: int = 1,
):
    return (gate or SequentialGate()).evaluate(
        GateInput(candidate=candidate, stable=stable, slo=SLO, min_requests=min_requests)
    )


def run_per_request(test: RateTest, rate: float, trials: int, seed: int) -> tuple[int, int, float]:
    """Look after every request until a verdict: (rollbacks, promotions, mean requests).

    Exact for per-request looks: the rollback statistic only rises on an error and the
    promotion statistic only falls on a good request, so checking the first at each error
    and the second through `clean_requests_to_promote` between errors sees every crossing.
    """
    rng = random.Random(seed)
    rollbacks = promotions = 0
    total = 0
    for _ in range(trials):
        n = k = 0
        while True:
            gap = math.floor(math.log(1 - rng.random()) / math.log(1 - rate))
            clean = test.clean_requests_to_promote(k, n)
            if clean <= gap:
                promotions += 1
                total += n + clean
                break
            n, k = n + gap + 1, k + 1
            if test.log_e(k, n) >= test.rollback_at:
                rollbacks += 1
                total += n
                break
    return rollbacks, promotions, total / trials


def test_defaults_work_without_arguments_and_expose_the_interface():
    gate = SequentialGate()
    assert gate.name == "sequential"
    assert gate.settings == SequentialGateSettings()
    assert (gate.settings.alpha, gate.settings.beta, gate.settings.error_effect) == (0.01, 0.01, 20)


def test_boundaries_match_hand_computed_values():
    # Error test: p0 = 0.1 % (the SLO), p1 = 20 x p0 = 2 %, alpha = 0.9 x 1 %, beta = 1 %.
    assert (ERRORS.p0, ERRORS.p1) == pytest.approx((0.001, 0.02))
    assert ERRORS.rollback_at == pytest.approx(math.log(1 / 0.009))
    assert ERRORS.promote_at == pytest.approx(math.log(0.01))
    # Promotion: n * ln(0.999 / 0.98) >= ln 100, so n >= 239.83: 240 clean requests.
    assert ERRORS.clean_requests_to_promote(0, 0) == 240
    # One error costs ln 20 / ln(0.999 / 0.98) = 156.0 more: (2.9957 + 4.6052) / 0.019202.
    assert ERRORS.clean_requests_to_promote(1, 1) == 396
    # One error never rolls back: 0.2 * 10.5 + 0.8 * 30 = 26.1 < 1 / 0.009 = 111.1.
    assert math.exp(ERRORS.log_e(1, 1)) == pytest.approx(26.1)
    # Two errors roll back up to n = 69: 0.2 * 10.5^2 * (0.9895 / 0.999)^67
    # + 0.8 * 30^2 * (0.97 / 0.999)^67 = 111.66 >= 111.1, and 108.6 at n = 70.
    assert math.exp(ERRORS.log_e(2, 69)) == pytest.approx(111.66, abs=0.01)
    assert ERRORS.log_e(2, 69) >= ERRORS.rollback_at > ERRORS.log_e(2, 70)


@pytest.mark.parametrize(
    ("requests", "errors", "verdict"),
    [(1, 1, Verdict.CONTINUE), (69, 2, Verdict.ROLLBACK), (70, 2, Verdict.CONTINUE)],
)
def test_the_gate_rolls_back_exactly_at_the_boundary(requests, errors, verdict):
    assert decide(window(requests, errors)).verdict is verdict


def test_type_one_error_at_the_slo_stays_under_alpha_with_a_look_per_request():
    rollbacks, promotions, _ = run_per_request(ERRORS, rate=0.001, trials=20_000, seed=1)
    assert rollbacks + promotions == 20_000
    assert rollbacks / 20_000 <= ERRORS.alpha
    assert rollbacks > 0, "the simulation must be able to see a false rollback at all"


def test_looking_for_ever_never_rolls_back_more_than_alpha():
    never = RateTest(
        p0=ERRORS.p0,
        p1=ERRORS.p1,
        alpha=ERRORS.alpha,
        beta=1e-300,
        alternatives=ERRORS.alternatives,
    )
    rollbacks, _, _ = run_per_request(never, rate=0.001, trials=10_000, seed=2)
    assert rollbacks / 10_000 <= ERRORS.alpha


def test_type_two_error_at_the_smallest_effect_stays_under_beta():
    trials = 20_000
    rollbacks, promotions, _ = run_per_request(ERRORS, rate=0.02, trials=trials, seed=3)
    bound = ERRORS.beta * trials + 3 * math.sqrt(ERRORS.beta * trials)
    assert promotions <= bound, f"{promotions} of {trials} canaries at 2 % errors promoted"
    assert rollbacks >= trials - bound


def test_a_five_percent_canary_is_rolled_back_within_one_and_a_half_wald_sample_numbers():
    wald = (0.98 * math.log(99)) / (0.05 * math.log(50) + 0.95 * math.log(0.95 / 0.999))
    assert wald == pytest.approx(30.5, abs=0.1)
    rollbacks, _, mean = run_per_request(ERRORS, rate=0.05, trials=4000, seed=4)
    assert rollbacks == 4000
    assert mean <= 1.5 * wald


def test_a_healthy_canary_is_promoted_after_about_240_requests():
    _, promotions, mean = run_per_request(ERRORS, rate=0.0002, trials=4000, seed=5)
    assert promotions >= 3996
    assert mean <= 260, "a clean run needs 240 requests; rare errors add little"


def test_thin_traffic_is_never_a_pass_and_says_how_many_more_requests():
    decision = decide(window(0))
    assert decision.verdict is Verdict.CONTINUE
    assert decision.needed_requests == 240
    decision = decide(window(100))
    assert (decision.verdict, decision.needed_requests) == (Verdict.CONTINUE, 140)
    assert "not enough evidence" in decision.reason


def test_the_steps_minimum_still_applies_after_the_evidence_is_in():
    decision = decide(window(300), min_requests=500)
    assert (decision.verdict, decision.needed_requests) == (Verdict.CONTINUE, 200)
    assert decide(window(500), min_requests=500).verdict is Verdict.PROMOTE


def test_a_clean_window_is_promoted_with_its_evidence():
    decision = decide(window(240))
    assert decision.verdict is Verdict.PROMOTE
    evidence = decision.evidence
    assert evidence["candidate"]["requests"] == 240
    assert evidence["stable"]["requests"] == 2700
    assert evidence["error_rate"]["log_lr"] <= evidence["error_rate"]["promote_at"]
    assert set(evidence["latency"]) == {"p95", "p99"}
    json.dumps(evidence)


def test_a_rollback_reports_the_statistic_and_its_boundary():
    decision = decide(window(40, errors=2))
    assert decision.verdict is Verdict.ROLLBACK
    assert decision.reason.startswith("error rate: 2 errors in 40 requests")
    test = decision.evidence["error_rate"]
    assert test["log_e"] >= test["rollback_at"] == pytest.approx(4.711, abs=1e-3)


def test_a_stable_failing_just_as_much_does_not_get_the_candidate_rolled_back():
    incident = window(2700, errors=81)
    decision = decide(window(300, errors=9), stable=incident)
    assert decision.verdict is Verdict.CONTINUE
    assert "the stable version fails too" in decision.reason
    assert decide(window(300, errors=9)).verdict is Verdict.ROLLBACK


def test_a_candidate_failing_far_more_than_a_failing_stable_is_rolled_back():
    decision = decide(window(300, errors=90), stable=window(2700, errors=81))
    assert decision.verdict is Verdict.ROLLBACK
    assert decision.evidence["error_rate"]["versus_stable"]["worse"] is True


def test_little_budget_left_makes_promotion_stricter_but_not_rollback():
    gate = SequentialGate(budget_remaining=0.25)
    # Factor 0.25 / 0.5: beta 0.5 %, effect 1 + 19 x 0.5 = 10.5 (p1 = 1.05 %):
    # ln(200) / ln(0.999 / 0.9895) = 554.5, so 555 clean requests.
    assert decide(window(0), gate=gate).needed_requests == 555
    assert decide(window(400), gate=gate).verdict is Verdict.CONTINUE
    assert decide(window(40, errors=2), gate=gate).verdict is Verdict.ROLLBACK


def test_a_spent_budget_refuses_the_gate():
    with pytest.raises(ErrorBudgetExhausted):
        SequentialGate(budget_remaining=0.0)


class Traffic:
    """A router and metrics source over simulated traffic (100 ms median), on a fake clock."""

    def __init__(self, error_rate: float, slow_s: float, rps: float, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = 0.0
        self.rates = {"candidate": (rps * 0.1, error_rate, slow_s), "stable": (rps * 0.9, 0.001, 0)}
        self.counts = {role: {"requests": 0, "errors": 0} for role in self.rates}
        self.buckets = {role: dict.fromkeys((*BOUNDS, math.inf), 0) for role in self.rates}
        self.at = dict.fromkeys(self.rates, 0.0)

    def set_candidate_weight(self, percent: int) -> Weights:
        return Weights(stable=100 - percent, candidate=percent)

    def read(self, instance: VersionInstance) -> VersionMetrics:
        role = instance.role
        rps, error_rate, slow = self.rates[role]
        counts, buckets = self.counts[role], self.buckets[role]
        while self.at[role] < self.now:
            self.at[role] += self.rng.expovariate(rps)
            counts["requests"] += 1
            counts["errors"] += self.rng.random() < error_rate
            latency = self.rng.lognormvariate(math.log(0.1), 0.5) + slow
            for bound in buckets:
                buckets[bound] += latency <= bound
        return VersionMetrics(**counts, buckets=dict(buckets))

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FlakyScrapes(Traffic):
    """Simulated traffic whose scrapes time out on the reads numbered in `failing`."""

    def __init__(self, failing: set[int], **traffic) -> None:
        super().__init__(**traffic)
        self.failing, self.reads = failing, 0

    def read(self, instance: VersionInstance) -> VersionMetrics:
        self.reads += 1
        if self.reads in self.failing:
            raise MetricsUnavailable("could not read metrics of version v at /metrics: timed out.")
        return super().read(instance)


def engine_step(traffic: Traffic, canary: Canary | None = None, on_read_error=None):
    instance = {
        role: VersionInstance(version="v", role=role, endpoint="", handle="")
        for role in ("candidate", "stable")
    }
    return run_step(
        weight=10,
        router=traffic,
        metrics=traffic,
        candidate=instance["candidate"],
        stable=instance["stable"],
        gate=SequentialGate(),
        canary=canary or Canary(min_requests=150, max_step_seconds=45),
        slo=SLO,
        on_read_error=on_read_error or (lambda exc, failures: None),
        clock=lambda: traffic.now,
        sleep=traffic.sleep,
    )


def test_the_engine_promotes_healthy_steps_at_the_demo_rate_in_about_twenty_seconds():
    results = [
        engine_step(Traffic(error_rate=0.0002, slow_s=0.0, rps=120, seed=seed))
        for seed in range(20)
    ]
    assert all(r.verdict is Verdict.PROMOTE and not r.timed_out for r in results)
    durations = sorted(r.duration_seconds for r in results)
    assert durations[len(durations) // 2] <= 23, durations


@pytest.mark.parametrize("seed", range(5))
def test_the_engine_rolls_back_a_five_percent_canary_after_tens_of_requests(seed):
    result = engine_step(Traffic(error_rate=0.05, slow_s=0.0, rps=120, seed=seed))
    assert result.verdict is Verdict.ROLLBACK
    assert result.decision.evidence["candidate"]["requests"] < 150


def test_the_engine_rolls_back_a_canary_300_ms_slower_within_seconds():
    result = engine_step(Traffic(error_rate=0.001, slow_s=0.3, rps=120, seed=9))
    assert result.verdict is Verdict.ROLLBACK
    assert result.decision.reason.startswith("p95 latency")
    assert result.duration_seconds <= 5


def test_the_engine_forgives_scrapes_that_time_out_now_and_then():
    forgiven = []
    traffic = FlakyScrapes(
        failing={1, 2, 3, 4, 40, 41, 42, 43}, error_rate=0.0002, slow_s=0.0, rps=120, seed=3
    )
    result = engine_step(traffic, on_read_error=lambda exc, n: forgiven.append(n))
    assert result.verdict is Verdict.PROMOTE
    assert forgiven == [1, 2, 3, 4, 1, 2, 3, 4], "the count restarts after a good read"


def test_the_engine_gives_up_after_the_configured_failures_in_a_row():
    traffic = FlakyScrapes(failing=set(range(10, 20)), error_rate=0.0002, slow_s=0, rps=120, seed=3)
    with pytest.raises(MetricsUnavailable, match=r"failed 3 times in a row .*limit is 2\)"):
        engine_step(traffic, Canary(min_requests=150, metric_error_limit=2))


def test_build_gate_follows_the_environment_and_passes_settings_and_budget():
    from petswipe_ops.gates import ThresholdGate, build_gate

    settings = SequentialGateSettings(alpha=0.05, beta=0.02)
    gate = build_gate(Canary(sequential=settings), budget_remaining=0.25)
    assert isinstance(gate, SequentialGate)
    assert gate.settings == settings
    assert gate.beta == pytest.approx(0.02 * 0.25 / 0.5), "half the threshold halves beta"
    assert isinstance(build_gate(Canary(gate="threshold")), ThresholdGate)


def with_4xx(metrics: VersionMetrics, client_errors: int) -> VersionMetrics:
    return metrics.model_copy(update={"client_errors": client_errors})


def test_the_tests_alphas_add_up_to_the_gates_alpha():
    gate = SequentialGate()
    parts = [gate.error_test(SLO).alpha, gate.client_error_alpha]
    parts += [test.alpha for test in gate.latency_tests.values()]
    assert sum(parts) == pytest.approx(gate.settings.alpha)
    assert gate.client_error_alpha == pytest.approx(0.0005)


def test_a_candidate_answering_401_to_every_request_is_rolled_back_within_a_few():
    # A 10 % step: each 4xx is the candidate's with probability 0.1 if both answer alike.
    # All of them its own: (4.71^k + 3.08^k + 1.82^k) / 3 reaches 1 / 0.0005 at k = 6.
    stable = window(54)
    assert decide(with_4xx(window(5), 5), stable).verdict is Verdict.CONTINUE
    decision = decide(with_4xx(window(6), 6), stable)
    assert decision.verdict is Verdict.ROLLBACK
    assert decision.reason.startswith("client errors: 6 4xx in 6 requests (100.00%)")
    assert decision.evidence["client_errors"]["candidate_share"] == 0.1


def test_4xx_answered_alike_by_both_versions_are_the_clients_business():
    decision = decide(with_4xx(window(300), 6), with_4xx(window(2700), 54))
    assert decision.verdict is Verdict.PROMOTE
    assert decision.evidence["client_errors"]["rollback"] is False


def test_a_candidate_answering_4xx_five_times_as_often_as_the_stable_is_rolled_back():
    decision = decide(with_4xx(window(200), 20), with_4xx(window(1800), 36))
    assert decision.verdict is Verdict.ROLLBACK
    assert decision.reason.startswith("client errors")


def test_without_stable_traffic_4xx_are_not_compared():
    decision = decide(with_4xx(window(300), 3), stable=window(0))
    assert decision.evidence["client_errors"] == {"measured": False, "rollback": False}


def test_the_4xx_test_keeps_its_false_rollback_bound_when_looked_at_often():
    """Both versions answer 4xx to 5 % of requests, the candidate gets 10 % of them; the
    test's alpha is raised to 5 % so that a thousand trials can measure it."""
    from petswipe_ops.gates.sequential import versus_stable_test

    rng = random.Random(11)
    rollbacks = 0
    for _ in range(1000):
        counts = {"candidate": [0, 0], "stable": [0, 0]}
        for i in range(1, 3001):
            role = "candidate" if rng.random() < 0.1 else "stable"
            counts[role][0] += 1
            counts[role][1] += rng.random() < 0.05
            if i % 20 or not counts["candidate"][0]:
                continue
            (nc, kc), (ns, ks) = counts["candidate"], counts["stable"]
            test = versus_stable_test(nc, ns, alpha=0.05)
            if test.log_e(kc, kc + ks) >= test.rollback_at:
                rollbacks += 1
                break
    assert 0 < rollbacks <= 50 + 3 * math.sqrt(50), rollbacks


def test_no_promotion_before_the_bake_time_but_a_rollback_may_come_sooner():
    def at(elapsed: float, candidate: VersionMetrics):
        return SequentialGate().evaluate(
            GateInput(
                candidate=candidate,
                stable=HEALTHY_STABLE,
                slo=SLO,
                min_requests=1,
                elapsed_seconds=elapsed,
                min_seconds=10,
            )
        )

    early = at(4, window(240))
    assert early.verdict is Verdict.CONTINUE
    assert "the step bakes for 10 s: 6.0 s to go" in early.reason
    assert early.evidence["min_step_seconds"] == 10
    assert at(10, window(240)).verdict is Verdict.PROMOTE
    assert at(1, window(40, errors=2)).verdict is Verdict.ROLLBACK


def test_the_engine_promotes_a_fast_step_only_once_it_has_baked():
    canary = Canary(min_requests=150, max_step_seconds=45, min_step_seconds=10)
    result = engine_step(Traffic(error_rate=0.0, slow_s=0.0, rps=1200, seed=1), canary)
    assert result.verdict is Verdict.PROMOTE
    assert 10 <= result.duration_seconds < 10.5
    assert result.decision.evidence["candidate"]["requests"] > 1000, "far past the evidence"


def test_a_candidate_without_a_latency_histogram_is_never_promoted():
    bare = VersionMetrics(requests=5000, errors=0)
    decision = decide(bare)
    assert decision.verdict is Verdict.CONTINUE
    assert decision.reason == (
        "5000 requests but no latency histogram in the candidate's metrics: "
        "it cannot be shown to meet the p95/p99 thresholds"
    )
    assert decision.needed_requests > 0
    assert decision.evidence["latency"]["p95"]["measured"] is False


def test_the_engine_times_out_a_candidate_without_a_histogram():
    class NoHistogram(Traffic):
        def read(self, instance):
            metrics = super().read(instance)
            if instance.role == "candidate":
                return metrics.model_copy(update={"buckets": {}})
            return metrics

    result = engine_step(NoHistogram(error_rate=0.0, slow_s=0.0, rps=120, seed=2))
    assert result.timed_out and result.verdict is Verdict.ROLLBACK
    assert "no latency histogram" in result.decision.reason
