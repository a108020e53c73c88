"""Backups of an AWS environment: RDS snapshots tagged with their tier and copied to the DR
region, the backup controls on them, and the drill (restore into a scratch instance, RTO)."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.states import Failed, State

from petswipe_ops.backup import controls
from petswipe_ops.config import BackupTier
from petswipe_ops.errors import OpsError
from tasks import aws_backup as steps


@flow(name="rds-backup", flow_run_name="rds-backup-{environment}")
def rds_backup(environment: str = "staging", tier: BackupTier | None = None) -> dict | State:
    """Snapshot the environment's RDS instance, copy it to the DR region, prune past retention."""
    try:
        run = steps.take_snapshot(environment, tier)
    except OpsError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))
    create_markdown_artifact(
        f"# RDS backup of {environment}\n\n"
        f"- snapshot `{run.snapshot.identifier}` ({run.snapshot.tier})\n"
        f"- DR copy `{run.dr_copy.arn}`\n- pruned: {', '.join(run.pruned) or 'none'}\n",
        key=f"rds-backup-{environment}",
        description=f"snapshot {run.snapshot.identifier}",
    )
    return run.model_dump(mode="json")


@flow(name="rds-backup-verification", flow_run_name="rds-backup-verification-{environment}")
def rds_backup_verification(environment: str = "staging") -> list[dict] | State:
    """Every backup control on the RDS snapshots (or AWS Backup recovery points)."""
    try:
        results = steps.evaluate_controls(environment)
    except OpsError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))
    rows = [{"control": r.control, "verdict": r.verdict, "evidence": r.evidence} for r in results]
    create_table_artifact(
        rows, key=f"rds-backup-verification-{environment}", description="backup controls"
    )
    message = controls.failure_message(results)
    return Failed(message=message, data=rows) if message else rows


@flow(name="rds-dr-drill", flow_run_name="rds-dr-drill-{environment}")
def rds_dr_drill(environment: str = "staging") -> dict | State:
    """Restore the newest snapshot into a scratch instance, time it against the RTO, delete it."""
    try:
        report = steps.run_drill(environment)
    except OpsError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=f"DR drill of {environment} could not run: {exc}")
    create_markdown_artifact(
        f"# DR drill of {environment}\n\n- snapshot `{report.snapshot}` restored into "
        f"`{report.scratch_instance}` (deleted)\n- {report.summary()}\n"
        + (f"- {report.note}\n" if report.note else ""),
        key=f"rds-dr-drill-{environment}",
        description=report.summary(),
    )
    if not report.passed:
        return Failed(message=f"DR drill of {environment} missed its RTO: {report.summary()}")
    return report.model_dump(mode="json")
