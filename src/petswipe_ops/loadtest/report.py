"""The campaign report: a markdown table for the terminal and Prefect, and an HTML page
with the chart inlined, kept beside the stored results."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from petswipe_ops.loadtest.campaign import CampaignRecord, results_store, save_record
from petswipe_ops.loadtest.chart import render_svg
from petswipe_ops.loadtest.history import ScenarioRun

COLUMNS = (
    "scenario",
    "result",
    "requests",
    "req/s",
    "errors",
    "checks",
    "p50 ms",
    "p90 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "vs last good run",
)


def _row(run: ScenarioRun) -> list[str]:
    s = run.summary
    lat = s.latency if s else None
    result = "✅ passed" if run.passed else f"❌ {run.message}"
    if run.regression is None:
        versus = "no baseline yet"
    else:
        versus = ("⚠️ " if run.regression.flagged else "") + run.regression.sentence()
    return [
        run.scenario,
        result,
        f"{s.requests}" if s else "—",
        f"{s.rps:.1f}" if s else "—",
        f"{s.error_rate:.2%}" if s else "—",
        f"{s.checks_rate:.1%}" if s and s.checks_rate is not None else "—",
        *(
            [f"{getattr(lat, k):.1f}" for k in ("p50", "p90", "p95", "p99", "max")]
            if lat
            else ["—"] * 5
        ),
        versus,
    ]


def render_table(runs: list[ScenarioRun]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for run in runs:
        cells = [c.replace("|", "\\|") for c in _row(run)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_markdown(record: CampaignRecord, inline_chart: bool = True) -> str:
    target = record.target
    lines = [
        f"# Load tests on {record.environment}: {'passed' if record.ok else 'failed'}",
        "",
        f"- {record.verdict()}",
    ]
    if target:
        lines.append(f"- target: {target.base_url} ({target.role}, version {target.version})")
        if target.note:
            lines.append(f"- note: {target.note}")
    lines.append(f"- scale {record.scale:g} (durations), {record.rate_scale:g} (rates)")
    if record.stopped:
        lines.append(f"- **campaign stopped**: {record.stopped}")
    lines += ["", render_table(record.runs), ""]
    if record.chart_path:
        chart = Path(record.chart_path)
        lines.append(
            f"Chart: [{chart.name}](file://{chart}) · report: [{Path(record.report_path).name}](file://{record.report_path})"
        )
        if inline_chart and chart.is_file():
            data = base64.b64encode(chart.read_bytes()).decode()
            alt = "latency percentiles, throughput and p95 trend"
            lines += ["", f"![{alt}](data:image/svg+xml;base64,{data})"]
    return "\n".join(lines) + "\n"


def write_report(record: CampaignRecord) -> CampaignRecord:
    """Write the chart (SVG) and the HTML report beside the results; return the record
    with their paths, saved."""
    store = results_store(record.environment)
    history = {name: store.history(name) for name in record.scenarios}
    svg = render_svg(record.runs, history)
    folder = store.directory.parent / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    chart = folder / f"{record.campaign_id}.svg"
    chart.write_text(svg)
    page = folder / f"{record.campaign_id}.html"
    record = record.model_copy(
        update={
            "chart_path": str(chart),
            "report_path": str(page),
            "finished_at": record.finished_at or datetime.now(UTC),
        }
    )
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in _row(run)) + "</tr>"
        for run in record.runs
    )
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    page.write_text(
        "<!doctype html><meta charset='utf-8'>"
        f"<title>Load tests {escape(record.campaign_id)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "td:first-child,td:nth-child(2),td:last-child{text-align:left}</style>"
        f"<h1>Load tests on {escape(record.environment)}</h1>"
        f"<p>{escape(record.verdict())}</p>"
        f"<table><tr>{head}</tr>{rows}</table>{svg}"
    )
    save_record(record)
    return record
