"""`petswipe-ops load-test`: k6 campaigns."""

from __future__ import annotations

from typing import Annotated

import typer

from petswipe_cli.common import Env, reported, run_flow, talks_to_prefect
from petswipe_cli.release import Fault

app = typer.Typer()

Scenario = Annotated[
    list[str],
    typer.Option("--scenario", "-s", help="smoke, load, stress, spike, soak or all; repeatable"),
]


@app.command("load-test")
@reported
@talks_to_prefect
def load_test(
    env: Env = "local",
    scenario: Scenario = ["smoke"],  # noqa: B006
    scale: Annotated[float | None, typer.Option(help="duration factor, e.g. 0.02")] = None,
    rate_scale: Annotated[float | None, typer.Option(help="arrival-rate factor")] = None,
    tolerance: Annotated[
        float | None, typer.Option(help="p95 growth still fine, 0.2 = 20 %")
    ] = None,
    version: Annotated[
        str | None, typer.Option("--version", "-v", help="local: test this version as a candidate")
    ] = None,
    fault: Fault = None,
):
    """k6 scenarios against the environment; exit 1 on a failed threshold or a regression."""
    from petswipe_ops.loadtest import campaign
    from petswipe_ops.loadtest.report import render_table

    names = [part.strip() for item in scenario for part in item.split(",") if part.strip()]
    request = campaign.validate_request(
        {
            "environment": env,
            "scenarios": names,
            "scale": scale,
            "rate_scale": rate_scale,
            "tolerance": tolerance,
            "version": version,
            "fault": fault or None,
        }
    )
    campaign.guard(request)
    from flows.load_test_campaign import load_test_campaign

    before = {r.campaign_id for r in campaign.all_records(env)}
    state = run_flow(load_test_campaign, request=request)
    record = next(
        (r for r in reversed(campaign.all_records(env)) if r.campaign_id not in before), None
    )
    if record is None:
        typer.secho(f"error: {state.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    if record.runs:
        typer.echo(render_table(record.runs))
    if record.report_path:
        typer.echo(f"chart: {record.chart_path}\nreport: {record.report_path}")
    ok = record.ok and not state.is_failed()
    crashed = state.is_failed() and (record.ok or not record.runs)
    verdict = f"error: {state.message}" if crashed else record.verdict()
    typer.secho(verdict, fg=typer.colors.GREEN if ok else typer.colors.RED, bold=True)
    raise typer.Exit(0 if ok else 1)
