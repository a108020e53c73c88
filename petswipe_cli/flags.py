"""`petswipe-ops flags ...`: list, enable (progressively), disable, analytics."""

from __future__ import annotations

from typing import Annotated

import typer

from petswipe_cli.common import reported, run_flow
from petswipe_ops.config import EnvironmentConfig, load_environment
from petswipe_ops.flags.analytics import AnalyticsReport, render_report
from petswipe_ops.flags.environment import flags_dir, rollout_for, store_for
from petswipe_ops.flags.listing import render_flags
from petswipe_ops.flags.model import FlagError, check_name
from petswipe_ops.flags.rollout import parse_strategy
from petswipe_ops.paths import project_root

app = typer.Typer(help="Feature flags (AppConfig's format; local store or AppConfig).")
Env = Annotated[str, typer.Option("--env", "-e", help="environment: deployments/<env>.yaml")]
Flag = Annotated[str, typer.Option("--flag", "-f", help="flag name")]


def _config(env: str) -> EnvironmentConfig:
    return load_environment(env, project_root())


def _known(config: EnvironmentConfig, flag: str) -> None:
    check_name(flag)
    store_for(config).latest().document.require(flag)


@app.command("list")
@reported
def list_flags(env: Env = "local"):
    """The flags as a markdown table: name, state, rollout percentage, last change."""
    typer.echo(render_flags(store_for(_config(env)).latest()))


@app.command("enable")
@reported
def enable(
    flag: Flag,
    env: Env = "local",
    strategy: Annotated[str, typer.Option(help="gradual, canary or immediate")] = "gradual",
    scale: Annotated[
        float | None, typer.Option(help="multiplies the strategy's durations (0.01: 1 %)")
    ] = None,
):
    """Roll a flag out by the strategy, watched by the gate; a breach turns it off."""
    chosen = parse_strategy(strategy)
    if scale is not None and not 0 < scale <= 10:
        raise FlagError(f"--scale {scale:g} is out of range; use a number above 0 and up to 10.")
    config = _config(env)
    _known(config, flag)
    from flows.feature_flags import feature_flag_rollout

    state = run_flow(feature_flag_rollout, environment=env, flag=flag, strategy=chosen, scale=scale)
    record = rollout_for(config).ledger.get(flag)
    if record is not None:
        climbed = " → ".join(f"{s.percent:g} %" for s in record.steps if s.status != "intent")
        typer.echo(f"{flag} ({chosen}): {climbed}")
    if not state.is_completed():
        typer.secho(f"error: {state.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.secho(f"{flag} is on for 100 % of users in {env}", fg="green")


@app.command("disable")
@reported
def disable(flag: Flag, env: Env = "local"):
    """Turn a flag off for everyone (a new flag version), stopping any rollout."""
    config = _config(env)
    _known(config, flag)
    number = rollout_for(config).disable(flag)
    typer.secho(f"{flag} is off in {env} (flag version {number})", fg="green")


@app.command("analytics")
@reported
def analytics(env: Env = "local"):
    """Snapshot the flag metrics now and print usage, errors and latency on vs off."""
    _config(env)
    from flows.feature_flags import flag_analytics

    state = run_flow(flag_analytics, environment=env)
    if not state.is_completed():
        typer.secho(f"error: {state.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    path = flags_dir(env) / "analytics" / "report.json"
    typer.echo(render_report(AnalyticsReport.model_validate_json(path.read_text())))
