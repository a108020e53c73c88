"""DR drill: restore the latest backup into a scratch database, verify it with
great-expectations, measure RTO and RPO, drop the scratch database, report; notify on failure."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.states import Failed, State

from petswipe_ops.backup import drill
from petswipe_ops.errors import OpsError
from tasks import backup as steps


@flow(name="dr-drill", flow_run_name="dr-drill-{environment}")
def dr_drill(environment: str = "local") -> dict | State:
    """Run the drill on `environment`; Failed names the expectation that failed."""
    logger = get_run_logger()
    try:
        config = steps.load(environment)
    except OpsError as exc:
        logger.error("%s", exc)
        return Failed(message=str(exc))
    try:
        report = steps.run_drill(config)
    except OpsError as exc:
        message = f"DR drill of {environment} could not run: {exc}"
        logger.error("%s", message)
        steps.send_notification(config, message)
        return Failed(message=message)
    create_markdown_artifact(
        drill.render_markdown(report),
        key=f"dr-drill-{environment}",
        description=f"RTO {report.rto_seconds:.2f} s, RPO {report.rpo_seconds} s",
    )
    if not report.passed:
        message = drill.failure_message(report)
        logger.error("%s", message)
        steps.send_notification(config, message)
        return Failed(message=message, data=report.model_dump(mode="json"))
    return report.model_dump(mode="json")
