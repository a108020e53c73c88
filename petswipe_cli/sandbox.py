"""`petswipe-ops sandbox`: the local sandbox's processes."""

from __future__ import annotations

import typer

from petswipe_cli.common import Env, reported, sandbox_of
from petswipe_ops import pipeline, reconcile

app = typer.Typer(help="The local sandbox: service, HAProxy, database.")


@app.command("up")
@reported
def sandbox_up(env: Env = "local"):
    """Converge unfinished releases, then start the stable version and HAProxy (idempotent)."""
    sandbox = sandbox_of(env)
    with pipeline.release_lock(sandbox.config, "sandbox up"):
        convergence, finished = reconcile.settle(sandbox, pipeline.ledger(env))
        if finished:
            typer.echo(f"finished {len(finished)} unfinished releases: {convergence.sentence()}")
        _print_status(sandbox.up())


@app.command("down")
@reported
def sandbox_down(env: Env = "local"):
    """Stop every process of the sandbox; the database and records stay."""
    sandbox = sandbox_of(env)
    sandbox.down()
    typer.echo(f"sandbox {env} stopped; state kept in {sandbox.run_dir}")


@app.command("status")
@reported
def sandbox_status(env: Env = "local"):
    """What runs, and the weights HAProxy reports."""
    _print_status(sandbox_of(env).status())


def _print_status(status) -> None:
    typer.echo(f"router {status.router_url}: {'up' if status.router_running else 'down'}")
    if status.weights:
        typer.echo(
            f"weights: stable {status.weights.stable} / candidate {status.weights.candidate}"
        )
    for instance in status.versions:
        typer.echo(f"{instance.role}: {instance.version} at {instance.endpoint}")
    if status.prometheus_url:
        typer.echo(f"prometheus {status.prometheus_url}: up (SLO history; make slo-status)")
