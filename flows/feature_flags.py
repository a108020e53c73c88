"""Feature flags: a progressive rollout watched by the gate, and the five-minute analytics."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.states import Failed, State

from petswipe_ops.errors import OpsError
from petswipe_ops.flags.analytics import render_report
from petswipe_ops.flags.rollout import Strategy
from tasks import feature_flags as steps


@flow(name="feature-flag-rollout", flow_run_name="ff-enable-{environment}-{flag}")
def feature_flag_rollout(
    environment: str = "local",
    flag: str = "recommended-feed",
    strategy: Strategy = Strategy.GRADUAL,
    scale: float | None = None,
) -> str | State:
    """Climb the strategy's percentages; a gate breach turns the flag off and fails the run."""
    try:
        config = steps.load(environment)
        record, plan = steps.begin(config, flag, strategy, scale)
        for percent, seconds in plan:
            record = steps.rollout_step(config, record, flag, percent, seconds)
            if record.outcome != "in-progress":
                break
        record = steps.finish(config, record)
    except OpsError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))
    climbed = " → ".join(f"{s.percent:g} %" for s in record.steps if s.status != "intent")
    create_markdown_artifact(
        f"# {flag} ({strategy})\n\n{record.outcome}: {climbed}\n\n{record.reason}\n",
        key=f"ff-{environment}-{flag}",
        description=record.outcome,
    )
    if record.outcome == "disabled-by-gate":
        steps.send_notification(config, f"Flag {flag} in {environment}: {record.reason}")
        return Failed(message=f"{flag} was turned off by the gate {record.reason}")
    if record.outcome == "stopped":
        return Failed(message=f"{flag} rollout stopped: {record.reason}")
    return record.outcome


@flow(name="flag-analytics", flow_run_name="flag-analytics-{environment}")
def flag_analytics(environment: str = "local") -> str | State:
    """Snapshot the flag metrics and report usage, errors and latency with each flag on vs off."""
    try:
        config = steps.load(environment)
        steps.snapshot(config)
        built = steps.report(config)
    except OpsError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))
    text = render_report(built)
    create_markdown_artifact(text, key=f"flag-analytics-{environment}", description="flags")
    return text
