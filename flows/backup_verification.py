"""Backup verification: Audit-Manager-like controls on the vault plus a sampled restore.

One table artifact row per control; the run fails when any control fails.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.states import Failed, State

from petswipe_ops.backup import controls
from petswipe_ops.errors import OpsError
from tasks import backup as steps


@flow(name="backup-verification", flow_run_name="backup-verification-{environment}")
def backup_verification(environment: str = "local") -> list[dict] | State:
    """Evaluate every backup control of `environment`; Failed names the failed controls."""
    try:
        config = steps.load(environment)
        results = steps.evaluate_controls(config)
    except OpsError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))
    rows = [{"control": r.control, "verdict": r.verdict, "evidence": r.evidence} for r in results]
    create_table_artifact(
        rows, key=f"backup-verification-{environment}", description="backup controls"
    )
    message = controls.failure_message(results)
    if message:
        steps.send_notification(config, f"{environment}: {message}")
        return Failed(message=message, data=rows)
    return rows
