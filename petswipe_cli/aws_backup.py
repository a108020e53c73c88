"""`petswipe-ops aws-backup run|verify|dr-test`: backups of an AWS environment (RDS snapshots)."""

from __future__ import annotations

import typer

from petswipe_cli.aws_sandbox import Env, reported
from petswipe_ops.config import BackupTier

app = typer.Typer(help="Backups of an AWS environment: RDS snapshots, controls, DR drill.")


def _fail(state) -> None:
    typer.secho(f"error: {state.message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command("run")
@reported
def run(env: Env = "staging", tier: BackupTier | None = None):
    """Snapshot the RDS instance (tagged with its tier), copy it to the DR region, prune."""
    from flows.aws_backup import rds_backup

    state = rds_backup(environment=env, tier=tier, return_state=True)
    if not state.is_completed():
        _fail(state)
    result = state.result()
    typer.echo(
        f"snapshot {result['snapshot']['identifier']} ({result['snapshot']['tier']}), "
        f"copied to {result['dr_copy']['region']}; pruned {len(result['pruned'])}"
    )


@app.command("verify")
@reported
def verify(env: Env = "staging"):
    """Evaluate every backup control; exit 1 when one fails."""
    from flows.aws_backup import rds_backup_verification

    state = rds_backup_verification(environment=env, return_state=True)
    rows = state.result(raise_on_failure=False)
    for row in rows if isinstance(rows, list) else []:
        typer.echo(f"{row['verdict']}  {row['control']}: {row['evidence']}")
    if not state.is_completed():
        _fail(state)
    typer.secho(f"every backup control of {env} passed", fg="green")


@app.command("dr-test")
@reported
def dr_test(env: Env = "staging"):
    """Restore the newest snapshot into a scratch instance and time it; exit 1 past the RTO."""
    from flows.aws_backup import rds_dr_drill

    state = rds_dr_drill(environment=env, return_state=True)
    if not state.is_completed():
        _fail(state)
    report = state.result()
    typer.echo(f"DR drill of {env} passed: RTO {report['rto_seconds']:.2f} s")
    if report.get("note"):
        typer.echo(report["note"])
