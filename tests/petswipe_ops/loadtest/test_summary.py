"""Reading k6's handleSummary JSON and mapping k6's exit codes to outcomes."""

from __future__ import annotations

import json

import pytest

from petswipe_ops.errors import ExternalCommandError
from petswipe_ops.loadtest.runner import Outcome, classify, parse_duration, progress_percent
from petswipe_ops.loadtest.summary import LoadSummary


def k6_summary(p95: float = 612.5, p95_ok: bool = False, error_rate: float = 0.004) -> dict:
    """A summary in the shape k6 1.x hands to handleSummary (trimmed to what is read)."""
    return {
        "root_group": {"name": "", "checks": []},
        "options": {"summaryTrendStats": ["avg", "min", "med", "max", "p(50)", "p(90)"]},
        "state": {"isStdOutTTY": False, "testRunDurationMs": 12003.5},
        "metrics": {
            "http_req_duration": {
                "type": "trend",
                "contains": "time",
                "values": {
                    "avg": 301.2,
                    "min": 0.9,
                    "med": 280.0,
                    "max": 1490.0,
                    "p(50)": 280.0,
                    "p(90)": 540.0,
                    "p(95)": p95,
                    "p(99)": 980.25,
                    "count": 500,
                },
                "thresholds": {"p(95)<500": {"ok": p95_ok}, "p(99)<1000": {"ok": True}},
            },
            "http_reqs": {"type": "counter", "values": {"count": 500, "rate": 41.65}},
            "http_req_failed": {
                "type": "rate",
                "values": {"passes": 2, "fails": 498, "rate": error_rate},
                "thresholds": {"rate<0.01": {"ok": True}},
            },
            "checks": {
                "type": "rate",
                "values": {"rate": 0.996, "passes": 996, "fails": 4},
                "thresholds": {"rate>0.95": {"ok": True}},
            },
            "iterations": {"type": "counter", "values": {"count": 500, "rate": 41.65}},
            "dropped_iterations": {"type": "counter", "values": {"count": 3, "rate": 0.25}},
            "vus_max": {"type": "gauge", "values": {"value": 40, "min": 5, "max": 40}},
        },
    }


def test_summary_figures_are_read_in_milliseconds_and_ratios():
    summary = LoadSummary.from_k6(k6_summary())
    assert summary.latency.p50 == 280.0
    assert summary.latency.p95 == 612.5
    assert summary.latency.p99 == 980.25
    assert summary.latency.max == 1490.0
    assert (summary.requests, round(summary.rps, 2)) == (500, 41.65)
    assert summary.error_rate == 0.004
    assert summary.checks_rate == 0.996
    assert summary.duration_s == pytest.approx(12.0035)
    assert (summary.dropped_iterations, summary.vus_max) == (3, 40)


def test_every_threshold_is_listed_with_its_verdict():
    summary = LoadSummary.from_k6(k6_summary())
    verdicts = {t.name: t.ok for t in summary.thresholds}
    assert verdicts == {
        "checks rate>0.95": True,
        "http_req_duration p(95)<500": False,
        "http_req_duration p(99)<1000": True,
        "http_req_failed rate<0.01": True,
    }
    assert [t.name for t in summary.failed_thresholds] == ["http_req_duration p(95)<500"]


def test_a_run_without_requests_has_no_latency():
    data = k6_summary()
    del data["metrics"]["http_req_duration"]
    data["metrics"]["http_reqs"]["values"] = {"count": 0, "rate": 0}
    summary = LoadSummary.from_k6(data)
    assert summary.latency is None and summary.requests == 0


def test_missing_percentiles_say_how_to_fix_the_script():
    data = k6_summary()
    del data["metrics"]["http_req_duration"]["values"]["p(99)"]
    with pytest.raises(ExternalCommandError, match=r"lacks p\(99\).*summaryTrendStats"):
        LoadSummary.from_k6(data)


def test_a_summary_that_is_not_k6s_is_an_error(tmp_path):
    with pytest.raises(ExternalCommandError, match="no metrics or test duration"):
        LoadSummary.from_k6({"hello": 1})
    broken = tmp_path / "summary.json"
    broken.write_text("{not json")
    with pytest.raises(ExternalCommandError, match="not valid JSON"):
        LoadSummary.read(broken)
    with pytest.raises(ExternalCommandError, match="export handleSummary"):
        LoadSummary.read(tmp_path / "absent.json")
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(k6_summary()))
    assert LoadSummary.read(ok).requests == 500


def test_exit_code_zero_passes():
    outcome, message = classify(0, LoadSummary.from_k6(k6_summary(p95_ok=True)), False)
    assert outcome is Outcome.PASSED and message == "all thresholds passed"


def test_exit_code_99_names_the_failing_thresholds():
    summary = LoadSummary.from_k6(k6_summary())
    outcome, message = classify(99, summary, aborted=False)
    assert outcome is Outcome.THRESHOLDS_FAILED
    assert message == "thresholds failed: http_req_duration p(95)<500"
    _, aborted = classify(99, summary, aborted=True)
    assert aborted == "thresholds aborted the run early: http_req_duration p(95)<500"


def test_an_interrupted_k6_is_cancelled():
    assert classify(105, None, False)[0] is Outcome.CANCELLED
    assert classify(-9, None, False)[0] is Outcome.CANCELLED


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (107, "the script threw an exception (k6 exit code 107): ReferenceError: x"),
        (108, "the script called test.abort() (k6 exit code 108): ReferenceError: x"),
        (104, "the script's options are invalid (k6 exit code 104): ReferenceError: x"),
        (1, "k6 failed (k6 exit code 1): ReferenceError: x"),
    ],
)
def test_other_exit_codes_are_errors_with_a_sentence(code, expected):
    outcome, message = classify(code, None, False, "ReferenceError: x")
    assert outcome is Outcome.ERROR
    assert message == expected


def test_k6_durations_and_progress_lines_are_read():
    assert parse_duration("1m5s") == 65
    assert parse_duration("30m5s") == 1805
    assert parse_duration("2.5s") == 2.5
    assert parse_duration("1h0m0s") == 3600
    with pytest.raises(ExternalCommandError):
        parse_duration("soon")
    assert progress_percent("load   [  42% ] 10/75 VUs  05.0s/17s  21.00 iters/s") == 42
    assert progress_percent("running (05.0s), 10/75 VUs, 100 complete") is None
