"""Benchmark: the sequential gate against Wald's limit and the peers' default rules.

Every scenario replays the same seeded request streams into every rule: 100 rps split
10 % canary / 90 % stable (Poisson arrivals), Bernoulli 5xx errors, lognormal
latencies (median 100 ms, sigma 0.5: p95 ~ 228 ms, p99 ~ 320 ms) recorded in the
reference service's histogram buckets. The stable fails 0.1 % of requests throughout,
and both versions answer 1 % of requests with a 4xx (clients' own mistakes) unless a
scenario's candidate answers more. One scenario runs a healthy 50 % step.

The gate holds every promotion until the step's bake time (`canary.min_step_seconds`,
10 s by default) has passed, as the engine does; rollbacks are never held.

The sequential gate runs through its real `evaluate`, on the cumulative window, at the
release engine's default look interval (`canary.observe_interval_seconds`) and once per
canary request (its sample number, the quantity Wald's average sample number measures).
Wald's SPRT that knows the true rate runs on the same canary requests; its textbook
average sample number (which ignores overshoot, a lower bound for any test with these
error rates) is printed too.

Run: uv run python bench/canary_gate.py   (about 6 CPU-minutes: 3 minutes on 2 idle cores)
"""

from __future__ import annotations

import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers

from petswipe_ops.config import Canary, Slo
from petswipe_ops.gates.base import GateInput, Verdict
from petswipe_ops.gates.sequential import SequentialGate
from petswipe_ops.metrics import VersionMetrics

SEED = 20240603
TOTAL_RPS = 100.0
CANARY_SHARE = 0.10
STABLE_ERROR_RATE = 0.001
CLIENT_ERROR_RATE = 0.01
MEDIAN_S, SIGMA = 0.100, 0.5
BOUNDS = np.array([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0])
STEP_SECONDS = 300
PEER_HORIZON_S = 3600
WALD_ALPHA = WALD_BETA = 0.01
SLO = Slo()
LOOK_S = Canary().observe_interval_seconds
BAKE_S = Canary().min_step_seconds


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    error_rate: float
    latency_shift_s: float
    trials: int
    bad: bool
    seed: int
    client_error_rate: float = CLIENT_ERROR_RATE
    share: float = CANARY_SHARE


SCENARIOS = (
    Scenario("healthy", "healthy: 0.02 % errors", 0.0002, 0.0, 1000, False, 1),
    Scenario("h0", "at SLO: 0.1 % errors", 0.001, 0.0, 400, False, 2),
    Scenario("healthy50", "healthy, 50 % step", 0.0002, 0.0, 300, False, 9, share=0.5),
    Scenario("err1", "bad: 1 % errors", 0.01, 0.0, 300, True, 3),
    Scenario("err2", "bad: 2 % errors", 0.02, 0.0, 300, True, 4),
    Scenario("err5", "bad: 5 % errors", 0.05, 0.0, 3000, True, 5),
    Scenario("slow", "bad: +300 ms", 0.001, 0.3, 300, True, 6),
    Scenario("c4xx5", "bad: 5 % 4xx, stable 1 %", 0.0002, 0.0, 300, True, 7, 0.05),
    Scenario("c4xx100", "bad: 401 to all requests", 0.0002, 0.0, 300, True, 8, 1.0),
)


@dataclass
class Streams:
    """One scenario's traffic: canary per request, both versions per second."""

    arrivals: list[np.ndarray]
    request_errors: list[np.ndarray]
    request_client_errors: list[np.ndarray]
    request_buckets: list[np.ndarray]
    stable_requests: np.ndarray
    stable_errors: np.ndarray
    stable_client_errors: np.ndarray
    stable_buckets: np.ndarray
    minute_requests: np.ndarray
    minute_errors: np.ndarray
    minute_buckets: np.ndarray
    argo_requests: np.ndarray
    argo_errors: np.ndarray


def stable_bucket_probabilities() -> np.ndarray:
    """Probability of each histogram bucket (the last: past the last bound) for the stable."""
    z = np.log(BOUNDS / MEDIAN_S) / (SIGMA * math.sqrt(2))
    cdf = 0.5 * (1 + np.vectorize(math.erf)(z))
    return np.diff(np.concatenate([[0.0], cdf, [1.0]]))


def simulate(scenario: Scenario) -> Streams:
    rng = np.random.default_rng([SEED, scenario.seed])
    rng_4xx = np.random.default_rng([SEED, scenario.seed, 4])
    canary_rps, stable_rps = TOTAL_RPS * scenario.share, TOTAL_RPS * (1 - scenario.share)
    arrivals, request_errors, request_client_errors, request_buckets = [], [], [], []
    minutes = STEP_SECONDS // 60
    minute_requests = np.zeros((scenario.trials, minutes), dtype=np.int64)
    minute_errors = np.zeros_like(minute_requests)
    minute_buckets = np.zeros((scenario.trials, minutes, len(BOUNDS) + 1), dtype=np.int64)
    argo_points = PEER_HORIZON_S // peers.ARGO_INTERVAL_S
    argo_requests = np.zeros((scenario.trials, argo_points), dtype=np.int64)
    argo_errors = np.zeros_like(argo_requests)
    for trial in range(scenario.trials):
        count = rng.poisson(canary_rps * STEP_SECONDS)
        times = np.sort(rng.uniform(0, STEP_SECONDS, count))
        errors = rng.random(count) < scenario.error_rate
        latency = rng.lognormal(math.log(MEDIAN_S), SIGMA, count) + scenario.latency_shift_s
        buckets = np.searchsorted(BOUNDS, latency, side="left")
        arrivals.append(times)
        request_errors.append(errors)
        request_client_errors.append(~errors & (rng_4xx.random(count) < scenario.client_error_rate))
        request_buckets.append(buckets)
        minute = (times // 60).astype(int)
        minute_requests[trial] = np.bincount(minute, minlength=minutes)
        minute_errors[trial] = np.bincount(minute, weights=errors, minlength=minutes)
        np.add.at(minute_buckets[trial], (minute, buckets), 1)
        window = (times > STEP_SECONDS - peers.ARGO_SCRAPE_S) & (times <= STEP_SECONDS)
        argo_requests[trial, 0] = window.sum()
        argo_errors[trial, 0] = errors[window].sum()
    later = rng.poisson(canary_rps * peers.ARGO_SCRAPE_S, (scenario.trials, argo_points - 1))
    argo_requests[:, 1:] = later
    argo_errors[:, 1:] = rng.binomial(later, scenario.error_rate)
    stable_requests = rng.poisson(stable_rps, (scenario.trials, STEP_SECONDS))
    stable_errors = rng.binomial(stable_requests, STABLE_ERROR_RATE)
    stable_buckets = rng.multinomial(stable_requests, stable_bucket_probabilities())
    stable_client_errors = rng_4xx.binomial(stable_requests - stable_errors, CLIENT_ERROR_RATE)
    return Streams(
        arrivals,
        request_errors,
        request_client_errors,
        request_buckets,
        np.cumsum(stable_requests, axis=1),
        np.cumsum(stable_errors, axis=1),
        np.cumsum(stable_client_errors, axis=1),
        np.cumsum(np.cumsum(stable_buckets, axis=2), axis=1),
        minute_requests,
        minute_errors,
        minute_buckets,
        argo_requests,
        argo_errors,
    )


def window(
    requests: int, errors: int, client_errors: int, cumulative_buckets: np.ndarray
) -> VersionMetrics:
    """A cumulative window as the engine builds it, without re-validating plain numbers."""
    buckets = {float(b): int(c) for b, c in zip(BOUNDS, cumulative_buckets[:-1], strict=True)}
    buckets[math.inf] = int(cumulative_buckets[-1])
    return VersionMetrics.model_construct(
        requests=requests,
        errors=errors,
        client_errors=client_errors,
        router_errors=0,
        buckets=buckets,
        latency_sum_seconds=0.0,
    )


def run_gate(streams: Streams, trial: int, per_request: bool) -> tuple[str, float, int]:
    """Drive the sequential gate over one trial's step; CONTINUE at the end is a timeout."""
    gate = SequentialGate()
    times = streams.arrivals[trial]
    errors = np.cumsum(streams.request_errors[trial])
    client_errors = np.cumsum(streams.request_client_errors[trial])
    onehot = np.zeros((len(times), len(BOUNDS) + 1), dtype=np.int64)
    onehot[np.arange(len(times)), streams.request_buckets[trial]] = 1
    cumulative = np.cumsum(np.cumsum(onehot, axis=0), axis=1)
    if per_request:
        looks = [(float(times[i]), i + 1) for i in range(len(times))]
    else:
        at = np.arange(1, round(STEP_SECONDS / LOOK_S) + 1) * LOOK_S
        seen = np.searchsorted(times, at, side="right")
        looks = [(float(t), int(n)) for t, n in zip(at, seen, strict=True)]
    zero = np.zeros(len(BOUNDS) + 1, dtype=np.int64)
    for at, n in looks:
        second = min(int(at + 1e-9), STEP_SECONDS) - 1
        stable = (
            window(
                int(streams.stable_requests[trial, second]),
                int(streams.stable_errors[trial, second]),
                int(streams.stable_client_errors[trial, second]),
                streams.stable_buckets[trial, second],
            )
            if second >= 0
            else window(0, 0, 0, zero)
        )
        candidate = (
            window(n, int(errors[n - 1]), int(client_errors[n - 1]), cumulative[n - 1])
            if n
            else window(0, 0, 0, zero)
        )
        decision = gate.evaluate(
            GateInput.model_construct(
                candidate=candidate,
                stable=stable,
                slo=SLO,
                min_requests=1,
                elapsed_seconds=at,
                min_seconds=BAKE_S,
            )
        )
        if decision.verdict is not Verdict.CONTINUE:
            return decision.verdict.value, at, n
    return "timeout", float(STEP_SECONDS), len(times)


def wald_bounds() -> tuple[float, float]:
    return math.log((1 - WALD_BETA) / WALD_ALPHA), math.log(WALD_BETA / (1 - WALD_ALPHA))


def wald_asn(p0: float, p1: float, p: float) -> float:
    """Wald's average sample number at the true rate p (p equal to p0 or p1)."""
    upper, lower = wald_bounds()
    drift = p * math.log(p1 / p0) + (1 - p) * math.log((1 - p1) / (1 - p0))
    if p == p1:
        return ((1 - WALD_BETA) * upper + WALD_BETA * lower) / drift
    return ((1 - WALD_ALPHA) * lower + WALD_ALPHA * upper) / drift


def run_wald(streams: Streams, p0: float, p1: float) -> tuple[np.ndarray, np.ndarray]:
    """Wald's SPRT of p0 against p1 on each trial's canary requests: sample numbers, rejects."""
    upper, lower = wald_bounds()
    step_bad, step_good = math.log(p1 / p0), math.log((1 - p1) / (1 - p0))
    numbers, rejected = [], []
    for errors in streams.request_errors:
        llr = np.cumsum(np.where(errors, step_bad, step_good))
        crossed = np.flatnonzero((llr >= upper) | (llr <= lower))
        if len(crossed) == 0:
            numbers.append(len(errors))
            rejected.append(False)
            continue
        numbers.append(crossed[0] + 1)
        rejected.append(bool(llr[crossed[0]] >= upper))
    return np.array(numbers, dtype=float), np.array(rejected)


def summarize(seconds: np.ndarray, requests: np.ndarray | None, mask: np.ndarray) -> dict:
    chosen = seconds[mask]
    out = {"share": float(mask.mean()), "count": int(mask.sum())}
    if len(chosen):
        out |= {"mean_s": float(chosen.mean()), "p95_s": float(np.percentile(chosen, 95))}
        if requests is not None:
            picked = requests[mask]
            out |= {"mean_n": float(picked.mean()), "p95_n": float(np.percentile(picked, 95))}
    return out


def run_scenario(scenario: Scenario) -> dict:
    streams = simulate(scenario)
    result: dict = {"scenario": scenario.key, "label": scenario.label, "trials": scenario.trials}
    modes = {"seq_looks": False, "seq_req": True}
    for name, per_request in modes.items():
        outcomes = [run_gate(streams, t, per_request) for t in range(scenario.trials)]
        verdicts = np.array([o[0] for o in outcomes])
        seconds = np.array([o[1] for o in outcomes])
        numbers = np.array([o[2] for o in outcomes], dtype=float)
        result[name] = {
            "rollback": summarize(seconds, numbers, verdicts == "rollback"),
            "promote": summarize(seconds, numbers, verdicts == "promote"),
            "timeout": float((verdicts == "timeout").mean()),
        }
    canary_rps = TOTAL_RPS * scenario.share
    outcomes = {
        "flagger": peers.flagger(
            streams.minute_requests, streams.minute_errors, streams.minute_buckets, BOUNDS
        ),
        "argo": peers.argo(streams.argo_requests, streams.argo_errors),
        "codedeploy": peers.codedeploy(
            streams.minute_requests, streams.minute_errors, streams.minute_buckets, BOUNDS
        ),
    }
    for name, outcome in outcomes.items():
        promoted = ~np.isnan(outcome.promoted_step_at)
        promoted_at = np.nan_to_num(outcome.promoted_step_at)
        result[name] = {
            "rollback": summarize(
                outcome.seconds, outcome.seconds * canary_rps, outcome.rolled_back
            ),
            "promote": summarize(
                promoted_at, promoted_at * canary_rps, promoted & ~outcome.rolled_back
            ),
        }
    if scenario.error_rate > STABLE_ERROR_RATE and scenario.latency_shift_s == 0:
        numbers, rejected = run_wald(streams, STABLE_ERROR_RATE, scenario.error_rate)
        result["wald"] = {
            "asn_formula": wald_asn(STABLE_ERROR_RATE, scenario.error_rate, scenario.error_rate),
            "mean_n": float(numbers.mean()),
            "rollback_share": float(rejected.mean()),
        }
    if not scenario.bad:
        result["wald_h0"] = {}
        for p1 in (0.02, 0.05):
            numbers, rejected = run_wald(streams, STABLE_ERROR_RATE, p1)
            result["wald_h0"][str(p1)] = {
                "asn_formula": wald_asn(STABLE_ERROR_RATE, p1, STABLE_ERROR_RATE),
                "mean_n": float(numbers[~rejected].mean()),
            }
    return result


RULES = (
    ("seq_looks", f"sequential, {LOOK_S:g} s looks"),
    ("seq_req", "sequential, every request"),
    ("flagger", "Flagger defaults"),
    ("argo", "Argo Rollouts docs"),
    ("codedeploy", "CodeDeploy 10%/5min"),
)


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def row(*cells: tuple[str, int]) -> str:
    """A table row: text cells left-aligned, the rest right-aligned to their widths."""
    first, *rest = cells
    return f"{first[0]:<24}" + "".join(
        f"{text:<{width}}" if i == 0 else f"{text:>{width}}" for i, (text, width) in enumerate(rest)
    )


def stats(summary: dict, share_digits: int) -> list[tuple[str, int]]:
    return [
        (f"{summary['share']:.{share_digits}f}", 12),
        (fmt(summary.get("mean_s"), 1), 9),
        (fmt(summary.get("p95_s"), 1), 9),
        (fmt(summary.get("mean_n"), 1), 10),
        (fmt(summary.get("p95_n")), 9),
    ]


def wald_row(label: str, rule: str, mean_n: float, formula: float, share: str = "") -> str:
    cells = [(share, 12), ("", 9), ("", 9), (f"{mean_n:.1f}", 10), ("", 9)]
    return row((label, 24), (rule, 28), *cells) + f"   formula ASN {formula:.1f}"


HEADER = [("mean s", 9), ("p95 s", 9), ("mean req", 10), ("p95 req", 9)]


def print_tables(results: dict[str, dict]) -> None:
    print("Bad canaries: share rolled back, time and canary requests to the rollback")
    print(row(("scenario", 24), ("rule", 28), ("rolled back", 12), *HEADER))
    for key in ("err1", "err2", "err5", "slow", "c4xx5", "c4xx100"):
        res = results[key]
        for rule, label in RULES:
            print(row((res["label"], 24), (label, 28), *stats(res[rule]["rollback"], 3)))
        if "wald" in res:
            wald = res["wald"]
            rule, share = "Wald SPRT knowing the rate", f"{wald['rollback_share']:.3f}"
            print(wald_row(res["label"], rule, wald["mean_n"], wald["asn_formula"], share))
    print()
    print("Good canaries: false rollbacks, time and canary requests to the step's promotion")
    print(row(("scenario", 24), ("rule", 28), ("false rb", 12), *HEADER))
    for key in ("healthy", "h0", "healthy50"):
        res = results[key]
        for rule, label in RULES:
            promoted = res[rule]["promote"]
            cells = stats(promoted, 0)
            cells[0] = (f"{res[rule]['rollback']['share']:.4f}", 12)
            print(row((res["label"], 24), (label, 28), *cells))
        for p1, wald in res.get("wald_h0", {}).items():
            rule = f"Wald SPRT 0.1 % vs {float(p1):.0%}"
            print(wald_row(res["label"], rule, wald["mean_n"], wald["asn_formula"]))


def headline(results: dict[str, dict]) -> dict:
    """The figures the gate is held to, at the engine's own look interval.

    `*_every_request` figures show the gate's sample number with no look delay at all.
    """
    err5, healthy, h0 = results["err5"], results["healthy"], results["h0"]
    healthy50, c4xx5, c4xx100 = results["healthy50"], results["c4xx5"], results["c4xx100"]
    looks, every = err5["seq_looks"]["rollback"], err5["seq_req"]["rollback"]
    wald5 = err5["wald"]
    wald_h0 = h0["wald_h0"]["0.02"]["asn_formula"]
    promote_n = h0["seq_looks"]["promote"]["mean_n"]
    return {
        "look_interval_s": LOOK_S,
        "detect_requests_ratio_to_wald_5pct": round(looks["mean_n"] / wald5["asn_formula"], 3),
        "detect_requests_ratio_to_wald_5pct_every_request": round(
            every["mean_n"] / wald5["asn_formula"], 3
        ),
        "detect_requests_ratio_to_wald_exact_5pct": round(looks["mean_n"] / wald5["mean_n"], 3),
        "detect_requests_5pct": round(looks["mean_n"], 1),
        "detect_requests_5pct_every_request": round(every["mean_n"], 1),
        "wald_asn_5pct": round(wald5["asn_formula"], 1),
        "wald_exact_mean_5pct": round(wald5["mean_n"], 1),
        "speedup_vs_flagger_default_5pct": round(
            err5["flagger"]["rollback"]["mean_s"] / looks["mean_s"], 1
        ),
        "false_rollback_rate": max(
            res[mode]["rollback"]["share"]
            for res in (healthy, healthy50)
            for mode in ("seq_req", "seq_looks")
        ),
        "false_rollback_trials": healthy["trials"] + healthy50["trials"],
        "false_rollback_rate_at_slo": h0["seq_looks"]["rollback"]["share"],
        "promote_requests_ratio_to_wald": round(promote_n / wald_h0, 3),
        "promote_requests_ratio_to_wald_5pct_test": round(
            promote_n / h0["wald_h0"]["0.05"]["asn_formula"], 3
        ),
        "promote_seconds_healthy": round(healthy["seq_looks"]["promote"]["mean_s"], 1),
        "bake_seconds": BAKE_S,
        "promote_seconds_healthy_50pct_step": round(healthy50["seq_looks"]["promote"]["mean_s"], 1),
        "promote_requests_healthy_50pct_step": round(
            healthy50["seq_looks"]["promote"]["mean_n"], 1
        ),
        "rollback_share_4xx_5pct": round(c4xx5["seq_looks"]["rollback"]["share"], 3),
        "detect_requests_4xx_5pct": round(c4xx5["seq_looks"]["rollback"]["mean_n"], 1),
        "detect_seconds_401_every_request": round(c4xx100["seq_looks"]["rollback"]["mean_s"], 2),
        "detect_requests_401_every_request": round(c4xx100["seq_looks"]["rollback"]["mean_n"], 1),
    }


def main() -> None:
    started = time.perf_counter()
    ordered = sorted(SCENARIOS, key=lambda s: -s.trials)
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = {r["scenario"]: r for r in pool.map(run_scenario, ordered)}
    print_tables(results)
    print(f"\nran in {time.perf_counter() - started:.0f} s")
    print(json.dumps(headline(results)))


if __name__ == "__main__":
    main()
