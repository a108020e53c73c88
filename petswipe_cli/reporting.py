"""The `reported` decorator of the secrets, flags and cdn command groups."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import typer

from petswipe_ops.errors import OpsError


def reported(command: Callable[..., Any]) -> Callable[..., Any]:
    """An OpsError becomes its one sentence on stderr and a non-zero exit."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OpsError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper
