"""Sequential gate: roll back a bad canary after tens of requests, never a good one by luck.

Every check is a count of bad requests out of n (5xx errors; requests slower than a
latency threshold; 4xx answers against the stable's) tested on the step's cumulative
window, as often as the engine looks:

- roll back when a mixture likelihood ratio against "rate <= p0" reaches 1/alpha. Under
  any rate <= p0 it is a nonnegative supermartingale, so by Ville's inequality it ever
  gets there with probability at most alpha, however many times it is looked at;
- promote when the likelihood ratio of p1 (the smallest effect worth catching) against p0
  falls to beta. Under any rate >= p1 its inverse is a supermartingale, so a canary that
  bad is promoted with probability at most beta.

That is Wald's SPRT with a mixture over alternatives on the rollback side, so a canary
far worse than p1 is caught about as fast as by a test that knew its true rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from petswipe_ops.config import SequentialGateSettings, Slo
from petswipe_ops.gates.base import GateDecision, GateInput, Verdict, bake, describe
from petswipe_ops.gates.budget import check_error_budget, tightening
from petswipe_ops.gates.latency import (
    LatencyThreshold,
    latency_threshold,
    slower_count,
    stable_misses_slo,
)
from petswipe_ops.metrics import VersionMetrics

ERROR_ALPHA_SHARE = 0.9
CLIENT_ERROR_ALPHA_SHARE = 0.05
LATENCY_ALPHA_SHARE = 1 - ERROR_ALPHA_SHARE - CLIENT_ERROR_ALPHA_SHARE
QUANTILES = (0.95, 0.99)
MIDPOINT_WEIGHT = 0.2
BEYOND = 1.5
RATE_CAP = 0.999
STABLE_RATIOS = (2.0, 4.0, 8.0)


@dataclass(frozen=True)
class RateTest:
    """One count of bad requests against 'rate <= p0', with its two boundaries."""

    p0: float
    p1: float
    alpha: float
    beta: float
    alternatives: tuple[tuple[float, float], ...]

    @classmethod
    def for_effect(cls, p0: float, effect: float, alpha: float, beta: float) -> RateTest:
        """Rollback alternatives half-way to p1 and at 1.5 p1, weighted 0.2 / 0.8.

        Most weight sits past p1 so that a canary failing far more than p1 is rolled back
        on its second error; the half-way one still catches the indifference zone.
        """
        p1 = min(p0 * effect, (1 + p0) / 2)
        alternatives = (
            ((p0 + p1) / 2, MIDPOINT_WEIGHT),
            (min(p1 * BEYOND, RATE_CAP), 1 - MIDPOINT_WEIGHT),
        )
        return cls(p0=p0, p1=p1, alpha=alpha, beta=beta, alternatives=alternatives)

    @property
    def rollback_at(self) -> float:
        return math.log(1 / self.alpha)

    @property
    def promote_at(self) -> float:
        return math.log(self.beta)

    def log_lr(self, rate: float, bad: float, n: float) -> float:
        """Log likelihood ratio of `rate` against p0 for `bad` of `n` requests."""
        good = max(n - bad, 0.0)
        return bad * math.log(rate / self.p0) + good * math.log((1 - rate) / (1 - self.p0))

    def log_e(self, bad: float, n: float) -> float:
        """Log of the mixture likelihood ratio that decides a rollback."""
        terms = [math.log(w) + self.log_lr(rate, bad, n) for rate, w in self.alternatives]
        top = max(terms)
        return top + math.log(sum(math.exp(t - top) for t in terms))

    def clean_requests_to_promote(self, bad: float, n: float) -> int:
        """Further requests, all good, before the promotion boundary is reached."""
        gap = self.log_lr(self.p1, bad, n) - self.promote_at
        if gap <= 0:
            return 0
        per_request = math.log((1 - self.p0) / (1 - self.p1))
        return math.ceil(gap / per_request - 1e-9)

    def judge(self, bad: float, n: float, bad_to_promote: float | None = None) -> dict[str, Any]:
        """The test's statistics and boundaries, as the report shows them.

        `bad_to_promote` counts against promotion when it differs from the rollback count.
        """
        against = bad if bad_to_promote is None else bad_to_promote
        log_e, log_lr = self.log_e(bad, n), self.log_lr(self.p1, against, n)
        return {
            "bad": round(bad, 2),
            "n": n,
            "p0": round(self.p0, 6),
            "p1": round(self.p1, 6),
            "log_e": round(log_e, 3),
            "rollback_at": round(self.rollback_at, 3),
            "log_lr": round(log_lr, 3),
            "promote_at": round(self.promote_at, 3),
            "rollback": log_e >= self.rollback_at,
            "promote": log_lr <= self.promote_at,
            "needed_requests": self.clean_requests_to_promote(against, n),
        }


def versus_stable_test(candidate_requests: int, stable_requests: int, alpha: float) -> RateTest:
    """Does the candidate fail more often than the stable? Failures split by traffic share.

    Given both versions' failures in one window, each is the candidate's with
    probability n_c / (n_c + n_s) if both fail alike, and more often if it fails r times
    as often; the alternatives are r = 2, 4 and 8.
    """
    share = candidate_requests / (candidate_requests + stable_requests)
    alternatives = tuple(
        (r * share / (r * share + 1 - share), 1 / len(STABLE_RATIOS)) for r in STABLE_RATIOS
    )
    return RateTest(
        p0=share, p1=alternatives[0][0], alpha=alpha, beta=0.5, alternatives=alternatives
    )


class SequentialGate:
    """PROMOTE, ROLLBACK or CONTINUE from sequential tests of errors, 4xx, p95 and p99.

    alpha bounds the whole gate's false rollbacks: 90 % of it goes to the error-rate test,
    5 % to the 4xx-against-the-stable test and 2.5 % to each latency quantile (a union
    bound). beta holds per test, since a promotion needs every test to pass. Little error
    budget left shrinks beta and the smallest effects by `budget.tightening`.
    """

    name = "sequential"

    def __init__(
        self,
        settings: SequentialGateSettings | None = None,
        budget_remaining: float | None = None,
    ) -> None:
        self.settings = settings or SequentialGateSettings()
        if budget_remaining is not None:
            check_error_budget(budget_remaining)
        self.budget_remaining = budget_remaining
        self.factor = tightening(budget_remaining, self.settings.budget_tighten_below)
        alpha = self.settings.alpha
        self.beta = self.settings.beta * self.factor
        self.latency_tests = {
            q: RateTest.for_effect(
                1 - q,
                self._effect(self.settings.latency_effect),
                alpha * LATENCY_ALPHA_SHARE / len(QUANTILES),
                self.beta,
            )
            for q in QUANTILES
        }
        self.client_error_alpha = alpha * CLIENT_ERROR_ALPHA_SHARE
        self._error_tests: dict[float, RateTest] = {}

    def _effect(self, base: float) -> float:
        return 1 + (base - 1) * self.factor

    def error_test(self, slo: Slo) -> RateTest:
        """The error-rate test for an SLO: p0 is its error rate, p1 the smallest effect."""
        if slo.error_rate not in self._error_tests:
            self._error_tests[slo.error_rate] = RateTest.for_effect(
                slo.error_rate,
                self._effect(self.settings.error_effect),
                self.settings.alpha * ERROR_ALPHA_SHARE,
                self.beta,
            )
        return self._error_tests[slo.error_rate]

    def evaluate(self, observation: GateInput) -> GateDecision:
        return bake(self._judge(observation), observation)

    def _judge(self, observation: GateInput) -> GateDecision:
        candidate, stable, slo = observation.candidate, observation.stable, observation.slo
        errors = self._errors(candidate, stable, slo)
        client_errors = self._client_errors(candidate, stable)
        latency = self._latency(candidate, stable, slo)
        evidence: dict[str, Any] = {
            "gate": self.name,
            "candidate": describe(candidate),
            "stable": describe(stable),
            "min_requests": observation.min_requests,
            "slo": {"error_rate": slo.error_rate, "p95_ms": slo.p95_ms, "p99_ms": slo.p99_ms},
            "elapsed_seconds": round(observation.elapsed_seconds, 1),
            "settings": {
                **self.settings.model_dump(),
                "budget_remaining": self.budget_remaining,
                "tightening": round(self.factor, 3),
                "beta_effective": round(self.beta, 5),
            },
            "error_rate": errors,
            "client_errors": client_errors,
            "latency": latency,
        }
        if errors["rollback"]:
            return GateDecision(
                verdict=Verdict.ROLLBACK, reason=_error_reason(candidate, errors), evidence=evidence
            )
        if client_errors.get("rollback"):
            return GateDecision(
                verdict=Verdict.ROLLBACK,
                reason=_client_error_reason(candidate, stable, client_errors),
                evidence=evidence,
            )
        for label, test in latency.items():
            if test.get("rollback"):
                return GateDecision(
                    verdict=Verdict.ROLLBACK, reason=_latency_reason(label, test), evidence=evidence
                )
        tests = [errors, *latency.values()]
        needed = max(
            observation.min_requests - candidate.requests,
            *(t["needed_requests"] for t in tests),
        )
        unmeasured = [label for label, t in latency.items() if not t["measured"]]
        if unmeasured and candidate.requests > 0:
            return GateDecision(
                verdict=Verdict.CONTINUE,
                reason=(
                    f"{candidate.requests} requests but no latency histogram in the candidate's "
                    f"metrics: it cannot be shown to meet the {'/'.join(unmeasured)} thresholds"
                ),
                needed_requests=needed,
                evidence=evidence,
            )
        if needed <= 0:
            return GateDecision(
                verdict=Verdict.PROMOTE,
                reason=_promote_reason(candidate, errors),
                evidence=evidence,
            )
        return GateDecision(
            verdict=Verdict.CONTINUE,
            reason=_continue_reason(observation, errors, latency),
            needed_requests=needed,
            evidence=evidence,
        )

    def _errors(
        self, candidate: VersionMetrics, stable: VersionMetrics, slo: Slo
    ) -> dict[str, Any]:
        test = self.error_test(slo)
        result = test.judge(candidate.errors, candidate.requests)
        stable_breaching = stable.requests > 0 and (
            test.log_e(stable.errors, stable.requests) >= test.rollback_at
        )
        result["stable_breaching"] = stable_breaching
        if stable_breaching and candidate.requests > 0:
            versus = versus_stable_test(candidate.requests, stable.requests, test.alpha)
            log_e = versus.log_e(candidate.errors, candidate.errors + stable.errors)
            worse = log_e >= versus.rollback_at
            result["versus_stable"] = {
                "candidate_share": round(versus.p0, 4),
                "log_e": round(log_e, 3),
                "rollback_at": round(versus.rollback_at, 3),
                "worse": worse,
            }
            result["rollback"] = result["rollback"] and worse
        return result

    def _client_errors(self, candidate: VersionMetrics, stable: VersionMetrics) -> dict[str, Any]:
        """Does the candidate answer 4xx more often than the stable, in the same window?

        A rollback-only test: 4xx are the clients' business as long as both versions
        answer them alike, but a candidate rejecting the credentials or routes users send
        answers them far more often. Each 4xx of the window is the candidate's with its
        traffic share if both answer alike; rolled back when that share is shown to be
        exceeded (the candidate answering 2, 4 or 8 times as often), at its own alpha.
        """
        if candidate.served <= 0 or stable.served <= 0:
            return {"measured": False, "rollback": False}
        test = versus_stable_test(candidate.served, stable.served, self.client_error_alpha)
        total = candidate.client_errors + stable.client_errors
        log_e = test.log_e(candidate.client_errors, total) if total else 0.0
        return {
            "measured": True,
            "candidate": candidate.client_errors,
            "stable": stable.client_errors,
            "candidate_share": round(test.p0, 4),
            "log_e": round(log_e, 3),
            "rollback_at": round(test.rollback_at, 3),
            "rollback": log_e >= test.rollback_at,
        }

    def _latency(
        self, candidate: VersionMetrics, stable: VersionMetrics, slo: Slo
    ) -> dict[str, dict[str, Any]]:
        if candidate.observed == 0:
            return {
                f"p{q * 100:.0f}": {
                    "measured": False,
                    "rollback": False,
                    "promote": False,
                    "needed_requests": test.clean_requests_to_promote(0, 0),
                }
                for q, test in self.latency_tests.items()
            }
        results: dict[str, dict[str, Any]] = {}
        for quantile, slo_ms in zip(QUANTILES, (slo.p95_ms, slo.p99_ms), strict=True):
            test = self.latency_tests[quantile]
            stable_breaching = stable_misses_slo(stable, quantile, slo_ms) or (
                stable.observed > 0
                and test.log_e(slower_count(stable, slo_ms), stable.observed) >= test.rollback_at
            )
            threshold = latency_threshold(
                quantile,
                slo_ms,
                stable,
                self.settings.latency_tolerance_ms,
                self.settings.latency_tolerance_ratio,
                stable_breaching,
            )
            bad = slower_count(candidate, threshold.rollback_ms)
            bad_to_promote = slower_count(candidate, threshold.promote_ms)
            results[f"p{quantile * 100:.0f}"] = {
                "measured": True,
                **_threshold_evidence(threshold),
                "stable_breaching": stable_breaching,
                "observed_ms": _round(candidate.quantile(quantile)),
                **test.judge(bad, candidate.observed, bad_to_promote),
            }
        return results


def _threshold_evidence(threshold: LatencyThreshold) -> dict[str, Any]:
    return {
        "threshold_ms": round(threshold.rollback_ms, 1),
        "promote_threshold_ms": round(threshold.promote_ms, 1),
        "basis": threshold.basis,
        "stable_ms": _round(threshold.stable_ms),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _error_reason(candidate: VersionMetrics, test: dict[str, Any]) -> str:
    return (
        f"error rate: {candidate.errors} errors in {candidate.requests} requests "
        f"({candidate.error_rate:.2%}) is above the SLO of {test['p0']:.2%} "
        f"(log likelihood ratio {test['log_e']:.1f} ≥ {test['rollback_at']:.1f})"
    )


def _client_error_reason(
    candidate: VersionMetrics, stable: VersionMetrics, test: dict[str, Any]
) -> str:
    return (
        f"client errors: {candidate.client_errors} 4xx in {candidate.served} requests "
        f"({candidate.client_error_rate:.2%}) against the stable's {stable.client_errors} in "
        f"{stable.served} ({stable.client_error_rate:.2%}): the candidate answers 4xx more "
        f"often (log likelihood ratio {test['log_e']:.1f} ≥ {test['rollback_at']:.1f})"
    )


def _latency_reason(label: str, test: dict[str, Any]) -> str:
    basis = "the SLO" if test["basis"] == "slo" else "the stable's plus tolerance"
    return (
        f"{label} latency: {test['bad']:.0f} of {test['n']} requests slower than "
        f"{test['threshold_ms']:.0f} ms ({basis}), {label} ≈ {test['observed_ms']} ms "
        f"(log likelihood ratio {test['log_e']:.1f} ≥ {test['rollback_at']:.1f})"
    )


def _promote_reason(candidate: VersionMetrics, errors: dict[str, Any]) -> str:
    p95 = describe(candidate)["p95_ms"]
    confidence = 1 - math.exp(errors["promote_at"])
    return (
        f"{candidate.requests} requests, {candidate.errors} errors, p95 {p95} ms: shown with "
        f"{confidence:.0%} confidence to fail less than {errors['p1']:.2%} and to stay "
        "within the latency thresholds"
    )


def _continue_reason(
    observation: GateInput, errors: dict[str, Any], latency: dict[str, dict[str, Any]]
) -> str:
    candidate, stable = observation.candidate, observation.stable
    if errors["stable_breaching"] and errors["log_e"] >= errors["rollback_at"]:
        return (
            f"the stable version fails too ({stable.errors} errors in {stable.requests} "
            f"requests): the candidate's {candidate.errors} errors in {candidate.requests} "
            "are not shown to be worse, so it is not blamed"
        )
    waiting = [
        f"{name} (the stable breaches the SLO too)" if t.get("stable_breaching") else name
        for name, t in (("errors", errors), *latency.items())
        if t.get("needed_requests")
    ]
    if candidate.requests < observation.min_requests and not waiting:
        waiting = ["the step's minimum"]
    return f"{candidate.requests} requests so far, not enough evidence yet for {', '.join(waiting)}"
