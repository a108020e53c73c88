"""The load-test campaign flow on the real sandbox with the real k6 binary, through
Prefect's test harness (a real temporary Prefect server), at a small scale."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.exceptions import FailedRun

from petswipe_ops.config import load_environment
from petswipe_ops.loadtest import campaign
from petswipe_ops.loadtest.campaign import CampaignRequest
from petswipe_ops.platform.local.sandbox import LocalSandbox

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


def _artifacts(key: str):
    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )


def test_smoke_campaign_stores_results_and_publishes_table_and_chart(make_project):
    from flows.load_test_campaign import load_test_campaign

    make_project()
    verdict = load_test_campaign(request=CampaignRequest(scenarios=["smoke"], scale=0.02))

    assert verdict == "load tests passed against 1.0.0: smoke"
    record = campaign.all_records("local")[-1]
    assert record.ok and record.target.role == "router"
    assert Path(record.chart_path).read_text().startswith("<svg")
    stored = campaign.results_store("local").history("smoke")
    assert len(stored) == 1 and stored[0].summary.requests > 0
    report = _artifacts("load-test-local")[0]
    assert "| smoke | ✅ passed |" in report.data
    assert f"file://{record.chart_path}" in report.data
    progress = _artifacts("load-test-progress-local")[0]
    assert progress.data == 100


def test_a_failed_threshold_stops_the_campaign(make_project):
    from flows.load_test_campaign import load_test_campaign

    project = make_project()
    request = CampaignRequest(
        scenarios=["all"], scale=0.02, version="9.9.9", fault="latency_ms=800"
    )
    with pytest.raises(FailedRun, match=r"smoke: thresholds .*http_req_duration p\(95\)<500"):
        load_test_campaign(request=request)

    record = campaign.all_records("local")[-1]
    assert [r.scenario for r in record.runs] == ["smoke"], "nothing runs after a failure"
    assert record.stopped.startswith("stopped after smoke: thresholds")
    assert record.target.version == "9.9.9" and record.target.role == "candidate"
    assert Path(record.report_path).is_file()
    sandbox = LocalSandbox(load_environment("local", project.root))
    assert [v.role for v in sandbox.services.running()] == ["stable"], "the candidate stopped"
