"""`petswipe-ops aws-sandbox up|status|down`: the AWS path with no account.

moto server answers the AWS APIs and the staging root is applied to it with terraform; the
traffic and the ALB metrics come from a local data-plane emulator (moto has none).
"""

from __future__ import annotations

from typing import Annotated

import typer

from petswipe_cli.common import reported
from petswipe_ops.config import load_environment
from petswipe_ops.paths import project_root

app = typer.Typer(help="The AWS sandbox: moto server, the staging stack, an ALB emulator.")

Env = Annotated[str, typer.Option("--env", "-e", help="an AWS environment: deployments/<env>.yaml")]


def _sandbox(env: str):
    from petswipe_ops.platform.aws.sandbox.control import AwsSandbox

    return AwsSandbox(load_environment(env, project_root()))


def _print(status) -> None:
    if not status.running:
        typer.echo(f"the AWS sandbox of {status.environment} is not running")
        return
    typer.echo(f"endpoint:   {status.endpoint_url}  (emulated ALB listener)")
    typer.echo(f"AWS APIs:   {status.moto_url}  (moto server)")
    typer.echo(f"Prometheus: {status.prometheus_url}")
    weights = status.weights
    typer.echo(f"weights:    stable {weights.stable} %, canary {weights.candidate} %")
    for service in status.services:
        typer.echo(
            f"service:    {service.name}  desired {service.desired}  "
            f"task definition {service.task_definition}  image {service.image}"
        )


@app.command("up")
@reported
def up(env: Env = "staging"):
    """Start moto, apply the environment's root to it, start the ALB emulator (idempotent)."""
    typer.echo("starting moto server and applying terraform/environments/aws (a few minutes)…")
    _print(_sandbox(env).up())


@app.command("status")
@reported
def status(env: Env = "staging"):
    """Endpoint URL, listener weights, ECS services and their task definitions."""
    _print(_sandbox(env).status())


@app.command("down")
@reported
def down(env: Env = "staging"):
    """Stop the emulator, its tasks, Prometheus and moto; forget the sandbox's state."""
    _sandbox(env).down()
    typer.echo(f"the AWS sandbox of {env} is stopped")
