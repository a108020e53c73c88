"""`petswipe-ops ui` and `deployments`: the Prefect server, its worker and deployments."""

from __future__ import annotations

from typing import Annotated

import typer

from petswipe_cli.common import reported
from petswipe_ops.errors import OpsError
from petswipe_ops.paths import project_root, run_dir

app = typer.Typer()
ui_app = typer.Typer(help="The Prefect UI: server, process worker and deployments.")
deployments_app = typer.Typer(help="The deployments of prefect.yaml.")
app.add_typer(ui_app, name="ui")
app.add_typer(deployments_app, name="deployments")

LOCAL_POOL = "local-process"


def _ui_stack(port: int = 0):
    from petswipe_ops.prefect_stack import PrefectStack

    return PrefectStack(run_dir("prefect-ui"), port)


@ui_app.command("up")
@reported
def ui_up(port: Annotated[int, typer.Option(help="port of the UI on 127.0.0.1")] = 4200):
    """Start the Prefect server (SQLite), a process worker and `prefect deploy --all`."""
    from petswipe_ops import deployment_spec

    root = project_root()
    deployment_spec.check(root)
    stack = _ui_stack(port)
    try:
        stack.start_server()
        stack.ensure_pool(LOCAL_POOL)
        stack.start_worker("local", LOCAL_POOL, {"PETSWIPE_ROOT": str(root)})
        stack.deploy_all(root)
    except OpsError:
        stack.stop()
        raise
    typer.secho(f"Prefect UI on {stack.ui_url}", fg=typer.colors.GREEN, bold=True)
    names = ", ".join(deployment_spec.deployment_names(root / "prefect.yaml"))
    typer.echo(f"  deployments ({LOCAL_POOL}): {names}")
    typer.echo(f"  in another shell: export PREFECT_API_URL={stack.api_url}")
    typer.echo("  then: make ci-release VERSION=1.3.0   or a run from the deployment's page")
    typer.echo(f"  logs and pids: {stack.folder}; stop everything with `make ui-down`")


@ui_app.command("down")
@reported
def ui_down():
    """Stop the server and workers `ui up` started."""
    stack = _ui_stack()
    stopped = stack.stop()
    typer.echo(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


@deployments_app.command("check")
@reported
def deployments_check():
    """Every environment has a release deployment, and none sets a deployment concurrency limit."""
    from petswipe_ops import deployment_spec

    deployment_spec.check(project_root())
    typer.echo(
        "prefect.yaml has a release deployment per environment; one release at a time is "
        "kept by the flow's release-<env> limits"
    )
