"""`petswipe-ops cdn invalidate`: empty paths of the edge cache (Varnish or CloudFront)."""

from __future__ import annotations

from typing import Annotated

import typer

from petswipe_cli.common import reported
from petswipe_ops.cdn.invalidation import invalidate
from petswipe_ops.config import load_environment
from petswipe_ops.paths import project_root

app = typer.Typer(help="The edge cache: Varnish locally, CloudFront on AWS.")


@app.command("invalidate")
@reported
def invalidate_command(
    paths: Annotated[str, typer.Option("--paths", help="space-separated, e.g. '/static/*'")],
    env: Annotated[str, typer.Option("--env", "-e")] = "local",
):
    """Invalidate the paths (a trailing * is a prefix) and wait until they are gone."""
    config = load_environment(env, project_root())
    result = invalidate(config, paths.split())
    typer.secho(
        f"invalidated {' '.join(result.paths)} on {result.cache} of {env} ({result.reference})",
        fg="green",
    )
