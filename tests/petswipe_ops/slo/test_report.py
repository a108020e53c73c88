"""The report's arithmetic on an in-memory SLI source with known event counts."""

from __future__ import annotations

import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.errors import ConfigError
from petswipe_ops.paths import project_root
from petswipe_ops.slo import history
from petswipe_ops.slo.freeze import ErrorBudgetSpent, check_release_budget
from petswipe_ops.slo.render import budget_rows, render_svg, table_rows
from petswipe_ops.slo.report import AlertState, build_report
from petswipe_ops.slo.source import EventCounts, EventSeries

NOW = 1_796_000_000.0


class FixedRatios:
    """An SliSource whose error ratio over a window is `ratios[window seconds]`, at
    `per_second` events, with `history` seconds of data."""

    name = "fixed"

    def __init__(self, ratios: dict[int, float], per_second: float = 10, history=None):
        self.ratios, self.per_second, self.history = ratios, per_second, history

    def counts(self, slo, window_seconds, at):
        span = min(window_seconds, self.history or window_seconds)
        total = self.per_second * span
        return EventCounts(bad=total * self.ratios.get(window_seconds, 0.0), total=total)

    def series(self, slo, start, end, step):
        times = [start + i * step for i in range(int((end - start) // step) + 1)]
        ratio = self.ratios.get(slo.window_seconds, 0.0)
        # Like Prometheus, no point at all where there is no data yet.
        times = [t for t in times if self.history is None or end - t < self.history]
        total = [self.per_second * step for _ in times]
        return EventSeries(times=times, total=total, bad=[n * ratio for n in total])


def config():
    loaded = load_environment("local", project_root())
    return loaded.model_copy(update={"slos": [loaded.slos[0]]})  # availability, 30 d


H, D = 3600, 86400


def test_burn_rates_budget_and_page_state():
    # 2 % errors for the last hour and 5 minutes (20x), 0.05 % over 30 d (half the budget).
    source = FixedRatios({300: 0.02, 3600: 0.02, 30 * D: 0.0005})
    status = build_report(config(), source, NOW).status("availability")
    assert status.burn("1h") == pytest.approx(20)
    assert status.sli == pytest.approx(0.9995)
    assert status.budget_remaining == pytest.approx(0.5)
    assert status.firing == ["page 1h/5m"]
    assert status.state is AlertState.PAGE
    # half the budget left, spent at 20x: 0.5 x 30 d / 20
    assert status.exhaustion_seconds == pytest.approx(0.5 * 30 * D / 20)


def test_ticket_on_a_slow_burn_and_low_budget_warning():
    slow = FixedRatios({D: 0.0035, 2 * H: 0.0035, 30 * D: 0.0005})
    assert build_report(config(), slow, NOW).status("availability").firing == ["ticket 1d/2h"]
    low = FixedRatios({30 * D: 0.0008})
    status = build_report(config(), low, NOW).status("availability")
    assert status.state is AlertState.LOW and status.firing == []


def test_a_spent_budget_pages_and_says_when_it_recovers():
    status = build_report(config(), FixedRatios({30 * D: 0.002}), NOW).status("availability")
    assert status.spent and status.state is AlertState.PAGE
    # errors evenly spread at 2x: the window must drop half its steps (with fresh,
    # error-free ones coming in) before the ratio is back at 0.1 %
    assert status.recovers_in_seconds == pytest.approx(15 * D, rel=0.02)


def test_too_little_history_is_reported():
    short = FixedRatios({}, history=2 * H)
    report = build_report(config(), short, NOW)
    assert report.status("availability").history_seconds == pytest.approx(2 * H, abs=120)
    assert table_rows(report)[0]["history"] == "2.0 h of 30 d history"
    assert budget_rows(report)[0]["exhausted in"] == "not burning"
    assert "<svg" in render_svg(report)


def test_no_traffic_is_no_data():
    status = build_report(config(), FixedRatios({}, per_second=0), NOW).status("availability")
    assert status.state is AlertState.NO_DATA and status.sli is None


def test_freeze_without_a_report_goes_on_untightened(make_project):
    make_project()
    verdict = check_release_budget("local")
    assert verdict.budget_remaining is None and not verdict.tighten
    assert "no SLO report of local yet" in verdict.note


def test_freeze_refuses_on_a_spent_report_and_an_empty_override_reason(make_project):
    make_project()
    cfg = config()
    report = build_report(cfg, FixedRatios({30 * D: 0.0013}), NOW)
    history.save(report)
    with pytest.raises(ErrorBudgetSpent) as refused:
        check_release_budget("local", config=cfg, now=NOW + 60)
    assert str(refused.value).startswith(
        "error budget of local spent: availability 99.87 % over 30 d against 99.9 %; "
        "releases resume when the 30 d window has dropped enough errors, in about"
    )
    with pytest.raises(ConfigError, match="needs a reason"):
        check_release_budget("local", "  ", config=cfg, now=NOW + 60)
    stale = check_release_budget("local", config=cfg, now=NOW + 7200)
    assert stale.budget_remaining is None and "2.0 h old" in stale.note


def test_freeze_tightens_below_the_threshold(make_project):
    make_project()
    cfg = config()
    history.save(build_report(cfg, FixedRatios({30 * D: 0.0007}), NOW))
    verdict = check_release_budget("local", config=cfg, now=NOW + 60)
    assert verdict.tighten and verdict.budget_remaining == pytest.approx(0.3)
