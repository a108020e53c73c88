"""Thin Prefect tasks over the library's load-test campaign steps."""

from __future__ import annotations

import os
import time
from uuid import UUID

from prefect import get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.loadtest import campaign
from petswipe_ops.loadtest.campaign import CampaignRecord, CampaignRequest, Target
from petswipe_ops.loadtest.history import ScenarioRun
from petswipe_ops.loadtest.report import render_markdown, write_report
from petswipe_ops.loadtest.runner import progress_percent

step_task = task(cache_policy=NO_CACHE, retries=0)
PROGRESS_EVERY_S = 5.0


@step_task(name="guard")
def guard(request: CampaignRequest) -> EnvironmentConfig:
    return campaign.guard(request)


@step_task(name="run scenario", task_run_name="k6 {scenario}")
def run_scenario(
    config: EnvironmentConfig,
    record: CampaignRecord,
    target: Target,
    scenario: str,
    tolerance: float | None,
    progress: UUID,
    done: int,
) -> ScenarioRun:
    """One k6 run; its progress lines move the campaign's progress artifact."""
    logger = get_run_logger()
    total = len(record.scenarios)
    last = [0.0]

    def on_line(line: str) -> None:
        percent = progress_percent(line)
        if "level=error" in line or "level=warning" in line:
            logger.warning("k6: %s", line)
        if percent is None or time.monotonic() - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = time.monotonic()
        logger.info("k6 %s: %s", scenario, line.strip())
        update_progress_artifact(
            progress,
            100 * (done + percent / 100) / total,
            description=f"{scenario}: {percent:.0f} %",
        )

    run = campaign.run_scenario(
        config,
        record,
        target,
        scenario,
        key=campaign.api_key(dict(os.environ)),
        tolerance=tolerance,
        on_line=on_line,
    )
    logger.info("%s: %s", scenario, run.message)
    if run.regression is not None:
        logger.info("%s against the last good run: %s", scenario, run.regression.sentence())
    return run


@step_task(name="publish report")
def publish(record: CampaignRecord) -> CampaignRecord:
    """The chart and HTML report on disk, then a table artifact and links to them."""
    record = write_report(record)
    create_markdown_artifact(
        render_markdown(record),
        key=f"load-test-{record.environment}",
        description=record.verdict(),
    )
    create_link_artifact(
        f"file://{record.report_path}",
        link_text=f"load-test report {record.campaign_id} (chart and table)",
        key=f"load-test-report-{record.environment}",
        description="HTML report with the latency and throughput chart",
    )
    return record
