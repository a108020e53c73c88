"""`petswipe-ops slo ...`: SLO status, error budgets and the generated Prometheus rules."""

from __future__ import annotations

from typing import Annotated

import typer

from petswipe_cli.common import reported
from petswipe_ops.config import EnvironmentConfig, load_environment
from petswipe_ops.paths import project_root
from petswipe_ops.slo.render import budget_rows, history_note, table_rows
from petswipe_ops.slo.report import SloReport
from petswipe_ops.slo.reporting import produce_report
from petswipe_ops.slo.rules import render_rules
from petswipe_ops.slo.sources import source_for

app = typer.Typer(help="SLOs, error budgets and burn-rate alerts.", no_args_is_help=True)
Env = Annotated[str, typer.Option("--env", "-e", help="environment: deployments/<env>.yaml")]


def render_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "no SLOs defined"
    head = list(rows[0])
    widths = [max(len(h), *(len(r[h]) for r in rows)) for h in head]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(r[h].ljust(w) for h, w in zip(head, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _report(env: str) -> tuple[EnvironmentConfig, SloReport]:
    config = load_environment(env, project_root())
    return config, produce_report(config, source_for(config))


def _footer(report: SloReport) -> None:
    short = [f"{s.name}: {history_note(s)}" for s in report.slos if history_note(s)]
    if short:
        typer.echo("too little history for a full window: " + "; ".join(short) + ".")
    typer.echo(f"source: {report.source}; report {report.report_id}: {report.markdown_path}")


@app.command("status")
@reported
def status(env: Env = "local"):
    """Each SLO: objective, window, SLI, budget remaining, burn rate per alert window, alert."""
    _, report = _report(env)
    typer.echo(render_table(table_rows(report)))
    _footer(report)


@app.command("budget")
@reported
def budget(env: Env = "local"):
    """Budget remaining per SLO and the time to exhaustion at the current 1 h burn rate."""
    _, report = _report(env)
    typer.echo(render_table(budget_rows(report)))
    _footer(report)


@app.command("rules")
@reported
def rules(env: Env = "local"):
    """The Prometheus recording and alerting rules generated from the SLO specs."""
    typer.echo(render_rules(load_environment(env, project_root())), nl=False)
