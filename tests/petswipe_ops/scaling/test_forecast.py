"""The forecast and the capacity rules on synthetic history (no servers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from petswipe_ops.scaling.forecast import (
    InsufficientHistory,
    fit_forecast,
    mape,
    seasonal_naive,
)
from petswipe_ops.scaling.plan import CapacitySettings, plan_capacity, replicas_to_run
from tests.petswipe_ops.scaling.synthetic import weekly_rates

END = datetime(2026, 11, 23, 0, tzinfo=UTC)  # a Monday
SETTINGS = CapacitySettings(requests_per_task=10, min_tasks=2, max_tasks=12, lead_minutes=10)


def test_forecast_follows_the_week_better_than_seasonal_naive():
    rates = weekly_rates(END + timedelta(days=2), 16, noise=0.1)
    history, truth = rates[: 14 * 24], rates[14 * 24 :]
    forecast = fit_forecast(history, horizon_hours=48)
    assert [p.at for p in forecast.points] == [p.at for p in truth]
    model = mape(truth, forecast.points)
    naive = mape(truth, seasonal_naive(history, 48))
    assert model < naive
    assert all(u.value > p.value for p, u in zip(forecast.points, forecast.upper, strict=True))
    evening = max(forecast.points, key=lambda p: p.value)
    assert evening.at.hour in (19, 20, 21)


def test_too_little_history_says_how_much_is_needed():
    with pytest.raises(InsufficientHistory) as raised:
        fit_forecast(weekly_rates(END, 2))
    message = str(raised.value)
    assert message.startswith("only 48 hours of request-rate history")
    assert "needs 168 hours (7 days)" in message


def test_plan_stays_within_min_and_max():
    quiet = fit_forecast(weekly_rates(END, 7, base=1.0))
    busy = fit_forecast(weekly_rates(END, 7, base=1000.0))
    assert {h.tasks for h in plan_capacity(quiet, SETTINGS, "t", END).hours} == {2}
    assert max(h.tasks for h in plan_capacity(busy, SETTINGS, "t", END).hours) == 12


def test_capacity_is_added_ahead_of_the_hour_and_never_removed_on_the_forecast_alone():
    plan = plan_capacity(fit_forecast(weekly_rates(END, 7)), SETTINGS, "t", END)
    actions = plan.actions()
    assert actions and all(a.min_capacity >= 2 and a.max_capacity == 12 for a in actions)
    peak = max(plan.hours, key=lambda h: h.tasks)
    assert plan.tasks_at(peak.at - timedelta(minutes=10)) == peak.tasks
    quiet_hour = min(plan.hours, key=lambda h: h.tasks)
    # the forecast is low but no load was observed: keep what runs
    assert replicas_to_run(plan, SETTINGS, quiet_hour.at, 9, None) == 9
    # the forecast is low but the observed load is high: keep enough for the load
    assert replicas_to_run(plan, SETTINGS, quiet_hour.at, 9, 60.0) == 9
    # both agree the load is gone: scale in, but not below the minimum
    assert replicas_to_run(plan, SETTINGS, quiet_hour.at, 9, 0.0) == max(quiet_hour.tasks, 2)


def test_cli_with_too_little_history_is_one_sentence_and_changes_nothing(make_project, tmp_path):
    import json
    import os
    import subprocess
    import sys

    project = make_project()
    history = tmp_path / "history.json"
    points = weekly_rates(datetime.now(UTC), 3)
    history.write_text(json.dumps([p.model_dump(mode="json") for p in points]))
    project.edit(
        "local", lambda data: data.update(scaling={"history": "file", "history_file": str(history)})
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "petswipe_cli.main",
            "infra",
            "predictive-scaling",
            "--env",
            "local",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **project.env()},
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: only ")
    assert "the forecast needs 168 hours (7 days)" in lines[0]
    assert not (project.run_root / "local" / "scaling").exists()
