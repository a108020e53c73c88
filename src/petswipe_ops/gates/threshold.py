"""Fixed SLO thresholds over a minimum request count.

Rolls back as soon as the window already holds more errors or slow requests than
the SLO allows over the step's minimum, or more 4xx than the stable's rate plus the
SLO's error rate would give, so a plainly bad canary does not wait for the full
count; a pass needs the full count.
"""

from __future__ import annotations

from petswipe_ops.gates.base import GateDecision, GateInput, Verdict, bake, describe


class ThresholdGate:
    name = "threshold"

    def evaluate(self, observation: GateInput) -> GateDecision:
        return bake(self._judge(observation), observation)

    def _judge(self, observation: GateInput) -> GateDecision:
        candidate, slo = observation.candidate, observation.slo
        basis = max(candidate.requests, observation.min_requests)
        evidence = {
            "gate": self.name,
            "candidate": describe(candidate),
            "stable": describe(observation.stable),
            "min_requests": observation.min_requests,
            "slo": {"error_rate": slo.error_rate, "p95_ms": slo.p95_ms, "p99_ms": slo.p99_ms},
            "elapsed_seconds": round(observation.elapsed_seconds, 1),
        }
        allowed_errors = slo.error_rate * basis
        if candidate.errors > allowed_errors:
            return GateDecision(
                verdict=Verdict.ROLLBACK,
                reason=(
                    f"error rate: {candidate.errors} errors in {candidate.requests} requests "
                    f"exceeds the SLO of {slo.error_rate:.2%} over {basis} requests"
                ),
                evidence=evidence,
            )
        stable = observation.stable
        allowed_client_errors = (stable.client_error_rate + slo.error_rate) * max(
            candidate.served, observation.min_requests
        )
        if stable.served > 0 and candidate.client_errors > allowed_client_errors:
            return GateDecision(
                verdict=Verdict.ROLLBACK,
                reason=(
                    f"client errors: {candidate.client_errors} 4xx in {candidate.served} "
                    f"requests against the stable's {stable.client_error_rate:.2%} plus the "
                    f"SLO's {slo.error_rate:.2%}"
                ),
                evidence=evidence,
            )
        for quantile, limit in ((0.95, slo.p95_ms), (0.99, slo.p99_ms)):
            slow = candidate.slower_than(limit)
            if slow > (1 - quantile) * basis:
                observed = candidate.quantile(quantile)
                shown = f"{observed:.0f} ms" if observed is not None else "unknown"
                return GateDecision(
                    verdict=Verdict.ROLLBACK,
                    reason=(
                        f"p{quantile * 100:.0f} latency: {slow} of {candidate.observed} requests "
                        f"slower than {limit:.0f} ms (p{quantile * 100:.0f} ≈ {shown})"
                    ),
                    evidence=evidence,
                )
        needed = observation.min_requests - candidate.requests
        if candidate.requests > 0 and candidate.observed == 0:
            return GateDecision(
                verdict=Verdict.CONTINUE,
                reason=(
                    f"{candidate.requests} requests but no latency histogram in the candidate's "
                    "metrics: it cannot be shown to meet the p95/p99 thresholds"
                ),
                needed_requests=max(needed, observation.min_requests),
                evidence=evidence,
            )
        if needed > 0:
            return GateDecision(
                verdict=Verdict.CONTINUE,
                reason=f"{candidate.requests} of {observation.min_requests} requests observed",
                needed_requests=needed,
                evidence=evidence,
            )
        return GateDecision(
            verdict=Verdict.PROMOTE,
            reason=(
                f"{candidate.requests} requests within SLO: "
                f"{candidate.error_rate:.2%} errors, p95 {evidence['candidate']['p95_ms']} ms"
            ),
            evidence=evidence,
        )
