"""What every command group shares: the error reporting, the `--env` option, the config."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any
from uuid import UUID

import typer

from petswipe_ops.config import EnvironmentConfig, load_environment
from petswipe_ops.errors import OpsError
from petswipe_ops.paths import project_root
from petswipe_ops.platform.local.sandbox import LocalSandbox

# Without PREFECT_API_URL a command starts a temporary Prefect server. On a busy 2-core
# machine it can take longer than Prefect's 20 s default to start, and its telemetry
# heartbeat (which has nowhere to go from a closed network) races the first flow run
# for the SQLite database; unless the user set them, allow more time and skip telemetry.
TEMPORARY_SERVER_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}
for _name, _value in TEMPORARY_SERVER_DEFAULTS.items():
    os.environ.setdefault(_name, _value)

Env = Annotated[str, typer.Option("--env", "-e", help="environment: deployments/<env>.yaml")]


def talks_to_prefect(command: Callable[..., Any]) -> Callable[..., Any]:
    """Check PREFECT_API_URL answers before a command that runs flows or asks the API:
    a wrong one is one sentence, not minutes of client retries and a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from petswipe_ops.prefect_stack import check_prefect_api

        check_prefect_api()
        return command(*args, **kwargs)

    return wrapper


def reported(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an OpsError into its one sentence on stderr and a non-zero exit."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OpsError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def config_of(env: str) -> EnvironmentConfig:
    return load_environment(env, project_root())


def sandbox_of(env: str) -> LocalSandbox:
    return LocalSandbox(config_of(env))


def flow_run_id(text: str) -> UUID:
    try:
        return UUID(text.strip())
    except ValueError:
        raise OpsError(f"'{text}' is not a flow run id; copy it from the run's page.") from None


def failed_run(state) -> None:
    typer.secho(f"error: {state.message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)
