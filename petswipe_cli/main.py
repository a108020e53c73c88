"""`petswipe-ops`: the command line over the flows and the library (the make targets call it).

One module per command group; this one only puts them together.
"""

from __future__ import annotations

import sys

import typer

from petswipe_cli import (
    backup,
    cdn,
    db,
    flags,
    infra,
    load_test,
    release,
    sandbox,
    secret_rotation,
    slo,
    ui,
)

app = typer.Typer(help="PetSwipe ops pipelines.", no_args_is_help=True, add_completion=False)
app.add_typer(release.app)
app.add_typer(infra.app)
app.add_typer(load_test.app)
app.add_typer(ui.app)
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(db.app, name="db")
app.add_typer(backup.app, name="backup")
app.add_typer(slo.app, name="slo")
app.add_typer(secret_rotation.app, name="secrets")
app.add_typer(flags.app, name="flags")
app.add_typer(cdn.app, name="cdn")


from petswipe_cli.aws_sandbox import app as aws_sandbox_app  # noqa: E402

app.add_typer(aws_sandbox_app, name="aws-sandbox")


def main() -> None:
    app(prog_name="petswipe-ops")


if __name__ == "__main__":
    sys.exit(main())
