"""`petswipe-ops backup`: backups, their verification and DR drills."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from petswipe_cli import aws_backup
from petswipe_cli.common import Env, config_of, failed_run, reported, run_flow, talks_to_prefect
from petswipe_ops.backup import controls as backup_controls
from petswipe_ops.backup import drill as backup_drill
from petswipe_ops.backup import operations as backup_ops
from petswipe_ops.config import BackupTier, PlatformKind

app = typer.Typer(help="Backups, backup verification and DR drills.")
Tier = Annotated[
    BackupTier | None, typer.Option(help="default: monthly/weekly/daily by the calendar")
]


def on_aws(env: str) -> bool:
    """AWS environments back up as RDS snapshots (flows/aws_backup.py), the sandbox as
    pg_dump archives in file vaults (flows/backup.py)."""
    return config_of(env).platform is PlatformKind.AWS


def _fresh_report(path, started: float) -> str | None:
    """The report a flow run wrote after `started`, or None if it wrote none."""
    if path.is_file() and path.stat().st_mtime >= started:
        return path.read_text()
    return None


@app.command("run")
@reported
@talks_to_prefect
def backup_run(env: Env = "local", tier: Tier = None):
    """Back up the environment's database, copy it to the DR vault, prune past retention."""
    from flows.backup import backup as backup_flow

    if on_aws(env):
        return aws_backup.run(env, tier)
    target = backup_ops.BackupTarget(config_of(env))
    state = run_flow(backup_flow, environment=env, tier=tier)
    if not state.is_completed():
        failed_run(state)
    manifest = target.vaults.primary.get(state.result())
    typer.echo(
        f"backup {manifest.id}: {manifest.tier.value}, {manifest.size} bytes, "
        f"{manifest.encryption}, sha256 {manifest.sha256[:12]}…, kept until "
        f"{manifest.expires_at:%Y-%m-%d}; copied to {target.vaults.dr.folder}"
    )


@app.command("verify")
@reported
@talks_to_prefect
def backup_verify(env: Env = "local"):
    """Evaluate every backup control; exit 1 when one fails."""
    from flows.backup_verification import backup_verification

    if on_aws(env):
        return aws_backup.verify(env)
    target = backup_ops.BackupTarget(config_of(env))
    started = time.time()
    state = run_flow(backup_verification, environment=env)
    raw = _fresh_report(backup_ops.report_path(target, "verification"), started)
    if raw is None:
        failed_run(state)
    report = backup_ops.VerificationReport.model_validate_json(raw)
    typer.echo(backup_controls.render_table(report.controls))
    if not report.passed:
        names = ", ".join(r.control for r in backup_controls.failed(report.controls))
        typer.secho(f"backup verification of {env} failed: {names}", fg="red", err=True)
        raise typer.Exit(1)
    typer.secho(f"every backup control of {env} passed", fg="green")


@app.command("dr-test")
@reported
@talks_to_prefect
def backup_dr_test(env: Env = "local"):
    """Restore the latest backup into a scratch database and verify it; exit 1 on failure."""
    from flows.backup import backup as backup_flow
    from flows.dr_drill import dr_drill

    if on_aws(env):
        return aws_backup.dr_test(env)
    target = backup_ops.BackupTarget(config_of(env))
    if not target.vaults.primary.list():
        typer.echo(f"the vault of {env} is empty: taking a first backup before the drill")
        seeded = backup_ops.prepare_first_backup(target)
        if seeded:
            typer.echo(f"seeded demo data into the empty database: {seeded}")
        state = run_flow(backup_flow, environment=env)
        if not state.is_completed():
            failed_run(state)
    started = time.time()
    state = run_flow(dr_drill, environment=env)
    raw = _fresh_report(backup_ops.report_path(target, "drill"), started)
    if raw is None:
        failed_run(state)
    report = backup_drill.DrillReport.model_validate_json(raw)
    typer.echo(backup_drill.render_markdown(report))
    rpo = f"{report.rpo_seconds:.0f} s" if report.rpo_seconds is not None else "no data"
    summary = f"RTO {report.rto_seconds:.2f} s, RPO {rpo}"
    if not report.passed:
        typer.secho(f"{backup_drill.failure_message(report)} ({summary})", fg="red", err=True)
        raise typer.Exit(1)
    typer.secho(f"DR drill of {env} passed: {summary}", fg="green")
    if target.config.local and target.config.local.postgres:
        typer.echo("the sandbox's PostgreSQL keeps running; `make sandbox-down` stops it")


@app.command("keygen")
def backup_keygen():
    """Print a new backup key; store it in PETSWIPE_BACKUP_KEY or a Prefect Secret block."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())
