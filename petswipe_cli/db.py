"""`petswipe-ops db`: the environment's schema migrations."""

from __future__ import annotations

import typer

from petswipe_cli.common import Env, reported, sandbox_of
from petswipe_ops import migrations
from petswipe_ops.paths import migrations_dir

app = typer.Typer(help="Database migrations of an environment.")


@app.command("migrate")
@reported
def db_migrate(env: Env):
    """alembic upgrade to head, one recorded step at a time."""
    sandbox = sandbox_of(env)
    sandbox.start_database()
    steps = migrations.upgrade(sandbox.database.url, migrations_dir())
    for step in steps:
        typer.echo(f"upgraded {step.revision} ({step.script}) in {step.execution_ms:.0f} ms")
    if not steps:
        typer.echo("schema already at head")


@app.command("rollback")
@reported
def db_rollback(env: Env, steps: int = 1):
    """alembic downgrade by STEPS revisions."""
    sandbox = sandbox_of(env)
    sandbox.start_database()
    for step in migrations.downgrade(sandbox.database.url, migrations_dir(), steps=steps):
        typer.echo(f"downgraded {step.revision} in {step.execution_ms:.0f} ms")


@app.command("status")
@reported
def db_status(env: Env):
    """Current revision, pending ones and the recorded history."""
    sandbox = sandbox_of(env)
    sandbox.start_database()
    status = migrations.status(sandbox.database.url, migrations_dir())
    typer.echo(f"current: {status.current or 'none'}  head: {status.head}")
    typer.echo(f"pending: {', '.join(status.pending) or 'none'}")
    for step in status.history:
        mark = "ok" if step.success else f"FAILED: {step.error}"
        typer.echo(
            f"{step.started_at:%Y-%m-%d %H:%M:%S} {step.direction:9} {step.revision} "
            f"{step.checksum[:12]} {step.execution_ms:7.0f} ms {mark}"
        )
