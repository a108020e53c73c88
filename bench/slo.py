"""Benchmark: the SLO report over 30 days of 15 s samples, beside Prometheus's own rules.

A scratch Prometheus (Debian's package, remote-write receiver on) takes 30 days of 15 s
samples of every series the five seed SLOs read: the router's responses by status class,
the service's requests by code and its latency histogram at the SLOs' bucket bounds. Then
it loads the rules generated from deployments/local.yaml. Two figures from the same run:

- the report: `produce_report` (SLI per window, budget, burn rates, burn-down and history
  of every SLO, saved with its chart), median of 5 runs;
- Prometheus evaluating the generated rules once: the sum of its rule groups' own
  `evaluationTime` (/api/v1/rules), median of 5 evaluations;

and their ratio.

Run: uv run python bench/slo.py   (about a minute on 2 cores, most of it sending samples)
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from petswipe_ops import http_client
from petswipe_ops.config import load_environment
from petswipe_ops.paths import project_root
from petswipe_ops.ports import free_ports
from petswipe_ops.slo.queries import (
    ROUTER_FRONTEND,
    ROUTER_RESPONSES,
    SERVICE_LATENCY,
    SERVICE_REQUESTS,
)
from petswipe_ops.slo.reporting import produce_report
from petswipe_ops.slo.rules import rule_groups, write_rules
from petswipe_ops.slo.source import PrometheusSource
from tests.fixtures.prometheus import load_rules, prometheus_on
from tests.fixtures.remote_write import push

STEP_S = 15
DAYS = 30
PER_STEP = 150.0  # 10 requests/s
RUNS = 5
SHARES = {  # share of each step's requests counted by each series
    (ROUTER_RESPONSES, (("code", "2xx"), ("proxy", ROUTER_FRONTEND))): 0.9995,
    (ROUTER_RESPONSES, (("code", "5xx"), ("proxy", ROUTER_FRONTEND))): 0.0005,
    (SERVICE_REQUESTS, (("code", "200"), ("route", "/api/pets"))): 0.9995,
    (SERVICE_REQUESTS, (("code", "500"), ("route", "/api/pets"))): 0.0005,
    (f"{SERVICE_LATENCY}_bucket", (("le", "0.2"), ("route", "/api/pets"))): 0.7,
    (f"{SERVICE_LATENCY}_bucket", (("le", "0.5"), ("route", "/api/pets"))): 0.97,
    (f"{SERVICE_LATENCY}_bucket", (("le", "1.0"), ("route", "/api/pets"))): 0.995,
    (f"{SERVICE_LATENCY}_count", (("route", "/api/pets"),)): 1.0,
}


def history(end: float) -> dict:
    steps = DAYS * 86400 // STEP_S
    start = end - steps * STEP_S
    series = {}
    for (name, labels), share in SHARES.items():
        key = tuple(sorted({"__name__": name, "job": "bench", **dict(labels)}.items()))
        per = PER_STEP * share
        series[key] = [(start + i * STEP_S, 10 + per * i) for i in range(steps + 1)]
    return series


def evaluation_seconds(url: str) -> float:
    groups = http_client.get(f"{url}/api/v1/rules", timeout=30).json()["data"]["groups"]
    return sum(g["evaluationTime"] for g in groups if g["name"].startswith("slo-"))


def main() -> None:
    base = load_environment("local", project_root())
    with tempfile.TemporaryDirectory(prefix="slo-bench-") as scratch:
        home = Path(scratch)
        os.environ["PETSWIPE_RUN_DIR"] = str(home / "run")
        port = free_ports(1)[0]
        url = f"http://127.0.0.1:{port}"
        config = base.model_copy(
            update={
                "slo_alerting": base.slo_alerting.model_copy(
                    update={"prometheus_url": url, "prometheus_selector": 'job="bench"'}
                )
            }
        )
        rules = write_rules(config, home / "rules.yml")
        with prometheus_on(home, port, [], evaluation_interval="5s", remote_write=True) as url:
            end = math.floor(time.time())
            began = time.perf_counter()
            sent = push(url, history(end))
            print(
                f"history: {sent:,} samples ({len(SHARES)} series x {DAYS} d at {STEP_S} s) "
                f"sent in {time.perf_counter() - began:.1f} s"
            )
            load_rules(home, url, [rules], evaluation_interval="5s")
            evaluations: list[float] = []
            last = None
            while len(evaluations) < RUNS:
                groups = http_client.get(f"{url}/api/v1/rules", timeout=30).json()["data"]["groups"]
                stamp = max((g.get("lastEvaluation", "") for g in groups), default="")
                if groups and stamp != last and not stamp.startswith("0001"):
                    last = stamp
                    evaluations.append(evaluation_seconds(url))
                time.sleep(1)
            source = PrometheusSource(url, 'job="bench"')
            reports = []
            for _ in range(RUNS):
                began = time.perf_counter()
                report = produce_report(config, source, at=end)
                reports.append(time.perf_counter() - began)
            source.close()
    rules_s, report_s = statistics.median(evaluations), statistics.median(reports)
    count = sum(len(g["rules"]) for g in rule_groups(config)["groups"])
    rows = ", ".join(
        f"{s.name} {100 * (s.sli or 0):.3f} % ({100 * (s.budget_remaining or 0):.0f} % left)"
        for s in report.slos
    )
    print(f"report: {rows}")
    print(
        f"Prometheus evaluating the {count} generated rules once: "
        f"{rules_s * 1000:.1f} ms (median of {RUNS})"
    )
    print(
        f"SLO report (5 SLOs, 8 windows each, burn-down, saved with chart): "
        f"{report_s * 1000:.1f} ms (median of {RUNS})"
    )
    print(f"ratio report / rule evaluation: {report_s / rules_s:.1f}x")


if __name__ == "__main__":
    main()
