"""When the generated alerts fire and clear, evaluation by evaluation, on known burn patterns.

Prometheus's own rule engine (`promtool test rules`) evaluates the rules generated from
deployments/local.yaml on series with a known burn: every listed evaluation must show
exactly the alerts the workbook's conditions give for that pattern, no earlier and no later.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from petswipe_ops.config import EnvironmentConfig, load_environment
from petswipe_ops.paths import project_root
from petswipe_ops.platform.local.prometheus_server import promtool_binary
from petswipe_ops.proc import run
from petswipe_ops.slo.rules import ALERT_NAMES, alert_rules, write_rules
from petswipe_ops.slo.windows import Severity
from tests.fixtures.slo_history import Pattern, promtool_values, reference_firing, router_series

PER_STEP = 1000.0


def availability_only() -> tuple[EnvironmentConfig, float]:
    config = load_environment("local", project_root())
    slo = next(s for s in config.slos if s.name == "availability")
    return config.model_copy(update={"slos": [slo]}), slo.budget


def expected_alerts(config: EnvironmentConfig, fired: set[tuple[str, str]], severity: Severity):
    rules = {
        (r["alert"], r["labels"].get("burn_window")): r for r in alert_rules(config, config.slos[0])
    }
    alerts = []
    for sev, label in sorted(fired):
        if sev == severity.value:
            rule = rules[(ALERT_NAMES[severity], label)]
            alerts.append({"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]})
    return alerts


def first_index(pattern: Pattern, budget: float, severity: str, label: str) -> int | None:
    for at in range(len(pattern.good) + 1):
        if (severity, label) in reference_firing(pattern, budget, at):
            return at
    return None


def promtool_case(
    config, budget: float, pattern: Pattern, evals: list[int], severities=tuple(Severity)
) -> dict:
    good, bad = pattern.counters()
    good_name, bad_name = router_series()
    cases = []
    for at in evals:
        fired = reference_firing(pattern, budget, at)
        for severity in severities:
            cases.append(
                {
                    "eval_time": pattern.minute(at),
                    "alertname": ALERT_NAMES[severity],
                    "exp_alerts": expected_alerts(config, fired, severity),
                }
            )
    return {
        "interval": pattern.minute(1),
        "input_series": [
            {"series": good_name, "values": promtool_values(good)},
            {"series": bad_name, "values": promtool_values(bad)},
        ],
        "alert_rule_test": cases,
    }


def around(center: int, radius: int, end: int, every: int) -> list[int]:
    """Every evaluation near `center`, and one per `every` elsewhere."""
    near = set(range(max(0, center - radius), min(end, center + radius) + 1))
    return sorted(near | set(range(0, end + 1, every)))


def run_promtool(tmp_path: Path, config, cases: list[dict], interval: str, name: str) -> None:
    rules = write_rules(config, tmp_path / "rules.yml")
    test = tmp_path / f"{name}.yml"
    test.write_text(
        yaml.safe_dump(
            {"rule_files": [rules.name], "evaluation_interval": interval, "tests": cases},
            width=100000,
        )
    )
    result = run([promtool_binary(), "test", "rules", str(test)], timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.integration
def test_fast_burn_pages_at_the_evaluation_the_hour_crosses_14_4x_and_clears(tmp_path):
    config, budget = availability_only()
    start, burn = 360, 60  # six clean hours, then 25x for an hour, at 1 min per evaluation
    fast = Pattern(60).add(start, PER_STEP, 0).add(burn, PER_STEP, 25 * budget)
    fast.add(120, PER_STEP, 0)
    fires = first_index(fast, budget, "page", "1h/5m")
    # The 1h window holds 25x over k of its 60 minutes: above 14.4x once k > 34.56.
    assert fires == start + math.ceil(14.4 / 25 * 60)
    assert first_index(fast, budget, "page", "6h/30m") is None
    clears = next(
        at
        for at in range(fires, len(fast.good))
        if not any(sev == "page" for sev, _ in reference_firing(fast, budget, at))
    )
    # The 5m window drops under 14.4x three minutes after the burn stops.
    assert clears == start + burn + 3
    # 7x for seven hours: never the fast page; the 6h/30m page once 7k/360 > 6.
    slow = Pattern(60).add(start, PER_STEP, 0).add(420, PER_STEP, 7 * budget)
    slow_fires = first_index(slow, budget, "page", "6h/30m")
    assert slow_fires == start + math.ceil(6 / 7 * 360)
    assert first_index(slow, budget, "page", "1h/5m") is None
    # Six hours of history fill every page window; the ticket windows (up to 3 d) are
    # checked on full history by the slow-burn test.
    page = (Severity.PAGE,)
    cases = [
        promtool_case(config, budget, fast, around(fires, 40, len(fast.good), 10), page),
        promtool_case(config, budget, slow, around(slow_fires, 10, len(slow.good), 30), page),
    ]
    run_promtool(tmp_path, config, cases, "1m", "pages")


@pytest.mark.integration
def test_slow_2x_burn_opens_a_ticket_and_never_pages(tmp_path):
    config, budget = availability_only()
    clean, step = 864, 300  # three clean days at 5 min per evaluation
    pattern = Pattern(step).add(clean, PER_STEP, 0)
    # The burn starts half a step in, so no evaluation sits exactly on the 1x boundary.
    pattern.add(1, PER_STEP, budget).add(500, PER_STEP, 2 * budget)
    ticket = first_index(pattern, budget, "ticket", "3d/6h")
    # The 3d window (864 steps) burns above 1x once 1 + 2 (k - 1) > 864: k = 433, 36 h in.
    assert ticket == clean + 433
    assert first_index(pattern, budget, "ticket", "1d/2h") is None
    assert all(
        not any(sev == "page" for sev, _ in reference_firing(pattern, budget, at))
        for at in range(len(pattern.good) + 1)
    )
    cases = [promtool_case(config, budget, pattern, around(ticket, 12, len(pattern.good), 12))]
    run_promtool(tmp_path, config, cases, "5m", "ticket")
