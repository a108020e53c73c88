"""Backup: take a tiered, encrypted backup, copy it to the DR vault, prune past retention."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.states import Failed, State

from petswipe_ops.backup import operations
from petswipe_ops.config import BackupTier
from petswipe_ops.errors import OpsError
from tasks import backup as steps


@flow(name="backup", flow_run_name="backup-{environment}")
def backup(environment: str = "local", tier: BackupTier | None = None) -> str | State:
    """Back up `environment`'s database; `tier` defaults to monthly/weekly/daily by date."""
    try:
        config = steps.load(environment)
        run = steps.take_backup(config, tier)
    except OpsError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))
    target = operations.BackupTarget(config)
    create_markdown_artifact(
        operations.render_backup(run, target.vaults.root),
        key=f"backup-{environment}",
        description=f"backup {run.manifest.id}",
    )
    return run.manifest.id
