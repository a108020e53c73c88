"""The sandbox's Prometheus, `slo status` / `slo budget` and the slo-report flow on real
traffic through HAProxy, with a candidate failing a fifth of its requests."""

from __future__ import annotations

import re
import time

import pytest
from typer.testing import CliRunner

from petswipe_cli.main import app
from petswipe_ops import http_client
from petswipe_ops.config import load_environment
from petswipe_ops.platform.local.sandbox import LocalSandbox
from petswipe_ops.slo import history
from petswipe_ops.slo.source import PrometheusSource

pytestmark = pytest.mark.integration


def wait_for_first_scrape(url: str) -> None:
    """Until Prometheus scraped the router: events before its first scrape are not history."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        reply = http_client.get(f"{url}/api/v1/query", params={"query": 'up{job="haproxy"} == 1'})
        if reply.json()["data"]["result"]:
            return
        time.sleep(0.5)
    raise AssertionError("Prometheus never scraped HAProxy's exporter")


def wait_for_errors(url: str, config) -> None:
    """Until Prometheus has scraped enough to see the 5xx over 5 minutes."""
    source = PrometheusSource(url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        counts = source.counts(config.slos[0], 300, time.time())
        if counts and counts.bad > 0 and counts.total > 300:
            return
        time.sleep(0.5)
    raise AssertionError("Prometheus never saw the router's 5xx")


def test_sandbox_history_commands_and_flow(make_project, receiver, monkeypatch, prefect_harness):
    project = make_project()

    def fast(data):
        data["local"]["prometheus_scrape_seconds"] = 1
        data["local"].pop("postgres", None)  # SQLite: the SLIs do not depend on the database
        data["slo_alerting"] = {"pagerduty": {"events_url": receiver.url, "backoff_seconds": 0}}

    project.edit("local", fast)
    monkeypatch.setenv("PETSWIPE_PAGERDUTY_ROUTING_KEY", "sandbox-routing-key")
    config = load_environment("local", project.root)
    sandbox = LocalSandbox(config, project.root)
    status = sandbox.up()
    assert status.prometheus_url == f"http://127.0.0.1:{config.local.prometheus_port}"
    faulty = sandbox.services.start("9.9.9", "candidate", {"PETSWIPE_FAULT_ERROR_RATE": "0.2"})
    sandbox.router.attach_candidate(faulty)
    sandbox.router.set_candidate_weight(50)
    wait_for_first_scrape(status.prometheus_url)
    with http_client.client(base_url=status.router_url, timeout=5) as client:
        codes = [client.get("/api/pets").status_code for _ in range(400)]
    assert 10 < codes.count(500) < 80
    wait_for_errors(status.prometheus_url, config)

    runner = CliRunner()
    shown = runner.invoke(app, ["slo", "status", "--env", "local"])
    assert shown.exit_code == 0, shown.output
    row = next(line for line in shown.output.splitlines() if line.startswith("availability"))
    assert "99.90 %" in row and "30 d" in row and "page" in row and "100.000 %" not in row
    # a minute or two of history, counted per minute, not per chart step (6 h on 30 d)
    assert re.search(r"availability: (\d+ s|[1-9] min) of 30 d history", shown.output)
    budget = runner.invoke(app, ["slo", "budget", "--env", "local"])
    assert budget.exit_code == 0, budget.output
    row = next(line for line in budget.output.splitlines() if line.startswith("availability"))
    assert "x" in row and "of 30 d history" in row

    from flows.slo_report import slo_report

    before = len(history.all_reports("local"))
    state = slo_report("local", return_state=True)
    assert state.is_completed(), state.message
    latest = history.latest("local")
    assert len(history.all_reports("local")) == before + 1
    assert latest.status("availability").state.value == "page"
    assert (project.run_root / "local" / "slo" / "reports" / f"{latest.report_id}.svg").is_file()
    triggers = [r["body"] for r in receiver.requests if r["body"]["event_action"] == "trigger"]
    assert {t["dedup_key"] for t in triggers} >= {"petswipe-slo-local-availability"}
    assert len(triggers) == len({t["dedup_key"] for t in triggers})
    assert "sandbox-routing-key" not in latest.model_dump_json()
    sandbox.down()
    assert not sandbox.prometheus.running() and sandbox.prometheus.pid() is None
    assert any(sandbox.prometheus.data_dir.iterdir()), "the history stays for the next up"


def test_unknown_environment_is_one_sentence():
    result = CliRunner().invoke(app, ["slo", "status", "--env", "nowhere"])
    assert result.exit_code == 2
    assert "unknown environment 'nowhere'" in result.output
