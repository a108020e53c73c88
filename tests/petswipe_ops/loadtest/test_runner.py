"""The k6 runner with the real k6 binary against the real sandbox (HAProxy and the
reference service), at a small scale: pass, fail on a threshold, cancel."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from petswipe_ops.config import load_environment
from petswipe_ops.loadtest import campaign
from petswipe_ops.loadtest.campaign import CampaignRequest
from petswipe_ops.loadtest.runner import K6Runner, Outcome
from petswipe_ops.platform.local.sandbox import LocalSandbox

pytestmark = pytest.mark.integration

KEY = "pk-test-0f9e8d7c6b5a"


def command_lines_holding(text: str) -> list[str]:
    """Command lines of this machine's processes that contain `text`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            raw = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in raw:
            found.append(raw)
    return found


@pytest.fixture
def keyed_sandbox(make_project, monkeypatch):
    """A sandbox whose service demands an API key."""
    project = make_project()
    monkeypatch.setenv("PETSWIPE_API_KEY", KEY)
    config = load_environment("local", project.root)
    LocalSandbox(config).up()
    monkeypatch.delenv("PETSWIPE_API_KEY")
    return config


def _record(config, scenario):
    return campaign.start_record(config, CampaignRequest(scenarios=[scenario], scale=0.02))


def test_smoke_passes_with_the_api_key_kept_out_of_command_lines_and_logs(keyed_sandbox):
    config = keyed_sandbox
    request = CampaignRequest(scenarios=["smoke"], scale=0.02)
    record = _record(config, "smoke")
    seen: list[str] = []
    leaks: list[str] = []

    def on_line(line: str) -> None:
        seen.append(line)
        leaks.extend(command_lines_holding(KEY))

    with campaign.open_target(config, request, print) as target:
        run = campaign.run_scenario(
            config, record, target, "smoke", key=SecretStr(KEY), on_line=on_line
        )

    assert run.outcome is Outcome.PASSED, run.message
    summary = run.summary
    assert 40 <= summary.requests <= 60, "5 requests/s for the 10 s floor of a scaled smoke"
    assert summary.error_rate == 0 and summary.checks_rate == 1
    assert 0 < summary.latency.p50 <= summary.latency.p95 <= summary.latency.p99
    assert {t.name for t in summary.thresholds} == {
        "checks rate>0.95",
        "http_req_duration p(95)<500",
        "http_req_duration p(99)<1000",
        "http_req_failed rate<0.01",
    }
    assert all(t.ok for t in summary.thresholds)
    assert any("[ 100% ]" in line for line in seen), "progress was streamed"
    assert leaks == []
    assert KEY not in Path(run.log_path).read_text()
    stored = campaign.results_store("local").history("smoke")
    assert [r.version for r in stored] == ["1.0.0"]
    assert KEY not in campaign.results_store("local").path(stored[0]).read_text()


def test_without_the_api_key_the_error_and_check_thresholds_fail(keyed_sandbox):
    config = keyed_sandbox
    request = CampaignRequest(scenarios=["load"], scale=0.02)
    with campaign.open_target(config, request, print) as target:
        run = campaign.run_scenario(config, _record(config, "load"), target, "load")

    assert run.outcome is Outcome.THRESHOLDS_FAILED
    assert run.aborted, "abortOnFail stops a clearly failing run early"
    assert run.summary.error_rate == 1.0
    assert "http_req_failed rate<0.01" in run.failed_thresholds
    assert "checks rate>0.95" in run.failed_thresholds
    assert run.message.startswith("thresholds aborted the run early: ")


def test_cancelling_stops_k6_within_seconds_and_keeps_its_figures(make_project, tmp_path):
    project = make_project()
    config = load_environment("local", project.root)
    sandbox = LocalSandbox(config)
    sandbox.up()
    script = project.root / "load_tests" / "soak.js"
    cancel = threading.Event()
    runner = K6Runner(
        script,
        env={"BASE_URL": sandbox.router_url, "SCALE": "1"},
        summary_path=tmp_path / "summary.json",
        log_path=tmp_path / "k6.log",
        on_line=lambda line: cancel.set() if "[" in line and "%" in line else None,
        cancel=cancel,
    )
    started = time.monotonic()
    result = runner.run()

    assert result.outcome is Outcome.CANCELLED
    assert result.planned_seconds == 30 * 60 + 5
    assert time.monotonic() - started < 30, "a 30-minute soak stops at once"
    assert result.summary is not None and result.summary.requests > 0
    assert command_lines_holding(str(script)) == [], "no k6 process is left"
