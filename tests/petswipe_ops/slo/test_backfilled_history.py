"""The report, the rules and the release freeze on weeks of backfilled history.

Two environments share one real Prometheus (their series told apart by `job`), filled
through its remote-write receiver with 31 days of history ending now, so it evaluates the
generated rules on them in real time: `steady` burns 0.2x with one short blip, `burning`
spent its 30-day budget in an eight-hour incident five days ago and has burned 25x for the
last 40 minutes.
"""

from __future__ import annotations

import math
import time

import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.paths import project_root
from petswipe_ops.ports import free_ports
from petswipe_ops.slo import history
from petswipe_ops.slo.freeze import ErrorBudgetSpent, check_release_budget, overrides_path
from petswipe_ops.slo.reporting import produce_report
from petswipe_ops.slo.rules import write_rules
from petswipe_ops.slo.windows import windows_of
from tests.fixtures.prometheus import load_rules, prometheus_on, query
from tests.fixtures.remote_write import push
from tests.fixtures.slo_history import Segment, router_samples

pytestmark = pytest.mark.integration

DAY = 1440
COARSE = 900  # older history every 15 min, the last day every minute


def steady() -> list[Segment]:
    return [
        Segment(21 * DAY, 0.0002, COARSE),
        Segment(60, 0.05, COARSE),  # a one-hour blip ten days ago
        Segment(9 * DAY - 60, 0.0002, COARSE),
        Segment(DAY, 0.0002),
    ]


def burning() -> list[Segment]:
    return [
        Segment(25 * DAY, 0, COARSE),
        Segment(8 * 60, 0.10, COARSE),  # an eight-hour incident five days ago
        Segment(5 * DAY - 8 * 60, 0, COARSE),
        Segment(DAY - 40, 0),
        Segment(40, 0.025),  # 25x for the last 40 minutes
    ]


@pytest.fixture
def backfilled(make_project, tmp_path):
    project = make_project()
    port = free_ports(1)[0]
    url = f"http://127.0.0.1:{port}"
    for name in ("steady", "burning"):
        project.edit(
            name,
            lambda data, name=name: data.update(
                slo_alerting={"prometheus_url": url, "prometheus_selector": f'job="{name}"'}
            ),
        )
    configs = {n: load_environment(n, project_root()) for n in ("steady", "burning")}
    home = tmp_path / "prometheus"
    home.mkdir()
    rules = [write_rules(c, home / f"rules-{n}.yml") for n, c in configs.items()]
    with prometheus_on(home, port, [], remote_write=True) as running:
        # The history ends now: Prometheus evaluates rules only in real time, from now on.
        end = math.floor(time.time())
        push(running, router_samples({"steady": steady(), "burning": burning()}, end))
        load_rules(home, running, rules)
        yield configs, running


def evaluated_at(url: str, environment: str) -> float:
    """The time of a finished evaluation of `environment`'s availability rules: one that a
    newer evaluation has followed, so its alerts are written too."""
    expr = f'timestamp(slo:sli_error:ratio_rate30d{{environment="{environment}"}})'
    seen: float | None = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = query(url, expr)
        if found:
            newest = float(found[0]["value"][1])
            if seen is not None and newest > seen:
                return seen
            seen = newest
        time.sleep(0.5)
    raise AssertionError(f"Prometheus never evaluated the rules of {environment} twice")


def test_report_agrees_with_prometheus_rules_and_the_freeze_follows_the_budget(backfilled):
    configs, url = backfilled
    for name, config in configs.items():
        at = evaluated_at(url, name)
        report = produce_report(config, at=at)
        status = report.status("availability")
        labels = f'environment="{name}",slo="availability"'
        for window in windows_of(config.slos[0]):
            recorded = query(url, f"slo:sli_error:ratio_rate{window}{{{labels}}}", at)
            assert status.burns[window].error_ratio == pytest.approx(
                float(recorded[0]["value"][1]), rel=1e-9, abs=1e-12
            ), window
        remaining = query(url, f"slo:period_error_budget_remaining:ratio{{{labels}}}", at)
        assert status.budget_remaining == pytest.approx(float(remaining[0]["value"][1]))
        alerts = query(url, f'ALERTS{{alertstate="firing",{labels},burn_window!=""}}', at)
        assert sorted(status.firing) == sorted(
            f"{a['metric']['severity']} {a['metric']['burn_window']}" for a in alerts
        )
        assert status.history_seconds == pytest.approx(30 * 86400)
        assert history.latest(name).report_id == report.report_id

    calm = history.latest("steady").status("availability")
    assert 0.7 < calm.budget_remaining < 0.85
    assert calm.firing == []
    hot = history.latest("burning").status("availability")
    assert hot.budget_remaining < 0
    assert "page 1h/5m" in hot.firing

    verdict = check_release_budget("steady")
    assert verdict.spent == [] and not verdict.tighten
    assert verdict.budget_remaining == pytest.approx(calm.budget_remaining)

    with pytest.raises(ErrorBudgetSpent) as refused:
        check_release_budget("burning")
    sentence = str(refused.value)
    assert sentence.startswith("error budget of burning spent: availability 99.8")
    assert "over 30 d against 99.9 %; releases resume when the 30 d window" in sentence
    assert not overrides_path("burning").exists()

    overridden = check_release_budget("burning", "hotfix for the checkout outage")
    assert overridden.overridden and overridden.tighten
    assert 0 < overridden.budget_remaining < 0.01
    assert "hotfix for the checkout outage" in overrides_path("burning").read_text()
