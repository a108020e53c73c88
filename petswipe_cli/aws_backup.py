"""`petswipe-ops backup run|verify|dr-test` on an AWS environment: its RDS snapshots.

`petswipe_cli.backup` calls these for an environment whose platform is aws; the local
sandbox's own backups (pg_dump archives in file vaults) stay there.
"""

from __future__ import annotations

import typer

from petswipe_cli.common import failed_run, run_flow
from petswipe_ops.config import BackupTier


def run(env: str, tier: BackupTier | None = None) -> None:
    """Snapshot the RDS instance (tagged with its tier), copy it to the DR region, prune."""
    from flows.aws_backup import rds_backup

    state = run_flow(rds_backup, environment=env, tier=tier)
    if not state.is_completed():
        failed_run(state)
    result = state.result()
    typer.echo(
        f"snapshot {result['snapshot']['identifier']} ({result['snapshot']['tier']}), "
        f"copied to {result['dr_copy']['region']}; pruned {len(result['pruned'])}"
    )


def verify(env: str) -> None:
    """Evaluate every backup control; exit 1 when one fails."""
    from flows.aws_backup import rds_backup_verification

    state = run_flow(rds_backup_verification, environment=env)
    rows = state.result(raise_on_failure=False)
    for row in rows if isinstance(rows, list) else []:
        typer.echo(f"{row['verdict']}  {row['control']}: {row['evidence']}")
    if not state.is_completed():
        failed_run(state)
    typer.secho(f"every backup control of {env} passed", fg="green")


def dr_test(env: str) -> None:
    """Restore the newest snapshot into a scratch instance and time it; exit 1 past the RTO."""
    from flows.aws_backup import rds_dr_drill

    state = run_flow(rds_dr_drill, environment=env)
    if not state.is_completed():
        failed_run(state)
    report = state.result()
    typer.echo(f"DR drill of {env} passed: RTO {report['rto_seconds']:.2f} s")
    if report.get("note"):
        typer.echo(report["note"])
