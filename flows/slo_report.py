"""The SLO report, every 15 minutes: SLIs per window, budgets, burn rates, alerts.

load → compute (from the environment's SLI source, kept in the history) → publish
(table artifact and chart link) → alerts (page, ticket, resolve on what changed).
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.states import Failed, State

from petswipe_ops.errors import OpsError
from tasks import slo as steps


@flow(name="slo-report", flow_run_name="slo-report-{environment}")
def slo_report(environment: str = "local") -> str | State:
    """One SLO report of `environment`; Failed when the source or a channel fails."""
    logger = get_run_logger()
    try:
        config = steps.load(environment)
        report = steps.compute(config)
        steps.publish(report)
        events = steps.send_alerts(config, report)
    except OpsError as exc:
        logger.error("%s", exc)
        return Failed(message=str(exc))
    failed = [e.error for e in events if e.error]
    if failed:
        return Failed(message=" ".join(failed))
    states = ", ".join(f"{s.name} {s.state.value}" for s in report.slos)
    return f"report {report.report_id}: {states}"
