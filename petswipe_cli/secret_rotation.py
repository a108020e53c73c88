"""`petswipe-ops secrets ...`: rotate an environment's secrets through the rotate-secrets flow."""

from __future__ import annotations

from typing import Annotated

import typer

from petswipe_cli.common import reported, run_flow
from petswipe_ops.config import load_environment
from petswipe_ops.paths import project_root
from petswipe_ops.secrets.model import parse_kind

app = typer.Typer(help="Secret rotation (Secrets Manager stages, local or AWS).")


@app.command("rotate")
@reported
def rotate(
    env: Annotated[str, typer.Option("--env", "-e")] = "local",
    secret: Annotated[str | None, typer.Option(help="db, api-key or jwt; default: all")] = None,
):
    """Rotate the environment's database credentials, API key and JWT signing key."""
    kinds = [parse_kind(secret)] if secret else None
    load_environment(env, project_root())
    from flows.rotate_secrets import rotate_secrets

    state = run_flow(rotate_secrets, environment=env, secrets=kinds)
    if not state.is_completed():
        typer.secho(f"error: {state.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    rotated = state.result()
    typer.secho(f"rotated {len(rotated)} secret(s) of {env}: {', '.join(rotated)}", fg="green")
