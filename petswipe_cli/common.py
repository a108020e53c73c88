"""What every command group shares: the error reporting, the `--env` option, the config."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import cache, wraps
from typing import Annotated, Any
from uuid import UUID

import typer

from petswipe_ops.config import EnvironmentConfig, load_environment
from petswipe_ops.errors import OpsError
from petswipe_ops.paths import project_root
from petswipe_ops.platform.local.sandbox import LocalSandbox

# Without PREFECT_API_URL a command starts a temporary Prefect server (`run_flow`). On a
# busy 2-core machine it can take longer than Prefect's 20 s default to start, and its telemetry
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


def run_flow(flow: Callable[..., Any], /, **parameters: Any) -> Any:
    """Run `flow` in this process and return its final state.

    Without a configured Prefect API, the flow runs against this command's temporary server
    (`TemporaryServer`: started by the first flow, stopped when the process ends, even when
    it is killed outright) instead of the one Prefect would leave behind after a SIGKILL.
    """
    url = configured_api_url() or _temporary_api_url()
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: url}):
        return flow(**parameters, return_state=True)


def configured_api_url() -> str:
    """PREFECT_API_URL, or the API in Prefect's settings once Prefect is loaded (a test
    harness sets it there)."""
    url = os.environ.get("PREFECT_API_URL", "").strip()
    if url or "prefect" not in sys.modules:
        return url
    from prefect.settings import get_current_settings

    return (get_current_settings().api.url or "").strip()


@cache
def _temporary_api_url() -> str:
    from petswipe_ops.temporary_server import TemporaryServer

    timeout = float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
    return TemporaryServer(timeout).start()


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
