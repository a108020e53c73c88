"""Stored runs, the baseline they are compared with, regressions, retention and the chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.loadtest import campaign
from petswipe_ops.loadtest.campaign import CampaignRecord, Target
from petswipe_ops.loadtest.history import ResultStore, ScenarioRun, compare
from petswipe_ops.loadtest.report import render_markdown, render_table, write_report
from petswipe_ops.loadtest.runner import Outcome
from petswipe_ops.loadtest.summary import Latency, LoadSummary, ThresholdResult

T0 = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)


def stored_run(
    p95: float,
    *,
    at: datetime = T0,
    version: str = "1.0.0",
    scenario: str = "load",
    error_rate: float = 0.0,
    outcome: Outcome = Outcome.PASSED,
    scale: float = 1.0,
) -> ScenarioRun:
    latency = Latency(
        avg=p95 * 0.6, min=1, med=p95 * 0.5, max=p95 * 1.5,
        p50=p95 * 0.5, p90=p95 * 0.9, p95=p95, p99=p95 * 1.2,
    )  # fmt: skip
    summary = LoadSummary(
        duration_s=540,
        requests=20_000,
        rps=37.0,
        error_rate=error_rate,
        checks_rate=1.0,
        latency=latency,
        iterations=20_000,
        dropped_iterations=0,
        vus_max=30,
        thresholds=[ThresholdResult(metric="http_req_duration", expression="p(95)<500", ok=True)],
    )
    return ScenarioRun(
        scenario=scenario,
        environment="local",
        version=version,
        target="http://127.0.0.1:18080",
        started_at=at,
        scale=scale,
        rate_scale=1.0,
        outcome=outcome,
        exit_code=0 if outcome is Outcome.PASSED else 99,
        message="all thresholds passed" if outcome is Outcome.PASSED else "thresholds failed",
        summary=summary,
    )


@pytest.fixture
def settings(make_project):
    project = make_project()
    return load_environment("local", project.root).load_test


def test_a_run_30_percent_slower_than_the_stored_baseline_is_a_regression(tmp_path, settings):
    store = ResultStore(tmp_path / "results")
    store.save(stored_run(300.0, version="1.4.0"))
    today = stored_run(390.0, at=T0 + timedelta(days=7), version="1.5.0")

    baseline = store.baseline(today)
    assert baseline is not None and baseline.version == "1.4.0"
    regression = compare(today, baseline, settings)
    assert regression.flagged
    assert (regression.p95_ms, regression.baseline_p95_ms) == (390.0, 300.0)
    assert regression.reasons == [
        "p95 390.0 ms is 30% above 300.0 ms of 1.4.0 (tolerance 20% and 50 ms)"
    ]


def test_within_tolerance_or_below_the_absolute_floor_is_not_a_regression(tmp_path, settings):
    assert not compare(stored_run(330.0), stored_run(300.0), settings).flagged
    assert not compare(stored_run(9.0), stored_run(3.0), settings).flagged, "loopback jitter"
    assert (
        compare(stored_run(300.0), stored_run(300.0), settings)
        .sentence()
        .startswith("within tolerance of 1.0.0")
    )


def test_a_higher_error_rate_is_a_regression(settings):
    regression = compare(
        stored_run(300, error_rate=0.008), stored_run(300, error_rate=0.001), settings
    )
    assert regression.flagged
    assert regression.reasons == ["error rate 0.80% is above 0.10% of 1.0.0 by more than 0.20%"]


def test_the_baseline_is_the_last_passing_run_at_the_same_scale(tmp_path):
    store = ResultStore(tmp_path / "results")
    store.save(stored_run(100, at=T0, version="1.0.0"))
    store.save(stored_run(110, at=T0 + timedelta(days=1), version="1.1.0"))
    store.save(
        stored_run(
            900, at=T0 + timedelta(days=2), version="1.2.0", outcome=Outcome.THRESHOLDS_FAILED
        )
    )
    store.save(stored_run(50, at=T0 + timedelta(days=3), version="1.3.0", scale=0.02))
    store.save(stored_run(70, at=T0 + timedelta(days=3), scenario="smoke"))
    today = stored_run(120, at=T0 + timedelta(days=4), version="1.4.0")

    assert store.baseline(today).version == "1.1.0"
    assert [r.version for r in store.history("load")] == ["1.0.0", "1.1.0", "1.2.0", "1.3.0"]
    files = sorted(p.name for p in (tmp_path / "results" / "load").iterdir())
    assert files[0] == "20261101T050000000000Z-1.0.0.json"


def test_retention_removes_old_runs_but_keeps_the_baseline(tmp_path):
    store = ResultStore(tmp_path / "results")
    store.save(stored_run(100, at=T0, version="1.0.0"))
    store.save(stored_run(100, at=T0 + timedelta(days=1), version="1.1.0"))
    store.save(stored_run(900, at=T0 + timedelta(days=2), version="1.2.0", outcome=Outcome.ERROR))
    store.save(stored_run(100, at=T0 + timedelta(days=200), version="2.0.0", outcome=Outcome.ERROR))

    removed = store.prune(retention_days=90, now=T0 + timedelta(days=201))

    assert len(removed) == 2
    assert [r.version for r in store.history("load")] == ["1.1.0", "2.0.0"]


def test_the_report_has_a_table_and_a_chart_a_person_can_read(make_project):
    make_project()
    store = campaign.results_store("local")
    for day, p95 in enumerate((40.0, 42.0, 45.0)):
        store.save(stored_run(p95, at=T0 + timedelta(days=day), version=f"1.{day}.0"))
    now = [
        stored_run(48.0, at=T0 + timedelta(days=5), scenario="smoke"),
        stored_run(60.0, at=T0 + timedelta(days=5)),
    ]
    for run in now:
        store.save(run)
    record = CampaignRecord(
        campaign_id="20261106T050000-abcdef",
        environment="local",
        started_at=T0 + timedelta(days=5),
        scenarios=["smoke", "load"],
        scale=1.0,
        rate_scale=1.0,
        target=Target(base_url="http://127.0.0.1:18080", version="1.0.0", role="router"),
        runs=now,
    )

    record = write_report(record)

    svg = ET.parse(record.chart_path).getroot()
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "✓ smoke" in texts and "✓ load" in texts and "37.0 req/s" in texts
    assert "500 ms threshold" not in texts, "the axis stops near the data, below the limit"
    titles = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")]
    assert "load p95 60.0 ms" in titles and "load p99 72.0 ms" in titles
    trend = [t for t in titles if t.startswith("load 1.") and "p95" in t]
    assert len(trend) == 4, "the three stored load runs and today's are in the trend"
    page = Path(record.report_path).read_text()
    assert "<svg" in page and "<td>60.0</td>" in page
    markdown = render_markdown(record)
    assert f"file://{record.chart_path}" in markdown
    assert "data:image/svg+xml;base64," in markdown
    assert "| load | ✅ passed | 20000 | 37.0 | 0.00% | 100.0% | 30.0 | 54.0 | 60.0 | 72.0 |" in (
        render_table(record.runs)
    )
