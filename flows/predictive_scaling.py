"""Predictive scaling every 15 minutes: a week of request rates, a 48 h forecast, and
capacity scheduled ahead of the predicted load (AWS scheduled actions; local replicas).

The artifact is the chart of history, forecast and planned capacity, with the plan's
hours in a table. A forecast only ever raises the floor; scale-in is left to the load.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.states import Failed, State

from petswipe_ops.errors import OpsError
from tasks import predictive_scaling as steps


@flow(name="predictive-scaling", flow_run_name="predictive-scaling-{environment}")
def predictive_scaling(environment: str = "local") -> dict | State:
    """Forecast, plan and apply; Failed with the one-sentence reason on bad input."""
    now = datetime.now(UTC)
    try:
        config = steps.load(environment)
        history = steps.read_history(config, now)
        forecast, plan = steps.forecast_and_plan(config, history, now)
        plan_file, chart = steps.write_outputs(config, history, forecast, plan)
        applied = steps.apply_plan(config, plan, now)
    except OpsError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))
    peak = max(plan.hours, key=lambda h: h.upper_rps)
    rows = "\n".join(
        f"| {h.at:%a %H:%M} | {h.forecast_rps:.1f} | {h.upper_rps:.1f} | {h.tasks} |"
        for h in plan.hours
    )
    create_markdown_artifact(
        key=f"predictive-scaling-{environment}",
        description="history, 48 h forecast and planned capacity",
        markdown=(
            f"## Predictive scaling of {environment}\n\n"
            f"Chart: `{chart}` (plan: `{plan_file}`)\n\n"
            f"Peak forecast {peak.upper_rps:.1f} req/s at {peak.at:%a %H:%M} UTC needs "
            f"{peak.tasks} tasks; applied: {applied}\n\n"
            "| hour (UTC) | forecast req/s | upper band | tasks |\n| --- | --- | --- | --- |\n"
            f"{rows}\n"
        ),
    )
    return {"applied": applied, "chart": str(chart), "plan": str(plan_file)}
