"""Thin Prefect tasks over the library's SLO report, its history and its alerts."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_table_artifact
from prefect.blocks.system import Secret
from prefect.cache_policies import NO_CACHE
from pydantic import SecretStr

from petswipe_ops.config import EnvironmentConfig, load_environment
from petswipe_ops.notify.channels import channels_for, secret_from_env
from petswipe_ops.paths import project_root
from petswipe_ops.slo import alerting
from petswipe_ops.slo.render import table_rows
from petswipe_ops.slo.report import SloReport
from petswipe_ops.slo.reporting import produce_report

step = task(cache_policy=NO_CACHE, retries=0)


def _block_secret(name: str) -> SecretStr | None:
    """The value of a Prefect Secret block, if that block exists."""
    try:
        value = Secret.load(name).get()
    except ValueError:
        return None
    return SecretStr(value) if value else None


@step(name="load environment")
def load(environment: str) -> EnvironmentConfig:
    return load_environment(environment, project_root())


@step(name="compute SLO report")
def compute(config: EnvironmentConfig) -> SloReport:
    report = produce_report(config)
    logger = get_run_logger()
    for status in report.slos:
        logger.info("%s", alerting.describe(status))
    return report


@step(name="publish SLO report")
def publish(report: SloReport) -> None:
    create_table_artifact(
        table=table_rows(report),
        key=f"slo-report-{report.environment}",
        description=f"SLOs of {report.environment}, report {report.report_id}",
    )
    create_link_artifact(
        f"file://{report.chart_path}",
        link_text=f"SLO chart {report.report_id}: budget burn-down and burn rates",
        key=f"slo-chart-{report.environment}",
        description="SVG: budget left over each SLO window, burn rate per alert window",
    )


@step(name="send SLO alerts")
def send_alerts(config: EnvironmentConfig, report: SloReport) -> list[alerting.AlertEvent]:
    pd = config.slo_alerting.pagerduty
    key = secret_from_env(pd.routing_key_env) or _block_secret(pd.routing_key_block)
    events = alerting.dispatch(config, report, channels_for(config, routing_key=key))
    logger = get_run_logger()
    for event in events:
        if event.error:
            logger.error("%s %s of %s: %s", event.kind, event.action.value, event.slo, event.error)
        else:
            channels = ", ".join(d.channel for d in event.deliveries) or "log only"
            logger.info(
                "%s %s of %s sent (%s)", event.kind, event.action.value, event.slo, channels
            )
    return events
