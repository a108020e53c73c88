"""Every report kept in the run folder: JSON, markdown and chart, newest one as `latest.json`.

The release freeze and `make slo-status` read the latest report; the history lets a
person see how a budget was spent. Reports past the retention go.
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import ValidationError

from petswipe_ops.errors import ConfigError
from petswipe_ops.jsonfile import write_text_atomically
from petswipe_ops.paths import run_dir
from petswipe_ops.slo.render import render_markdown, render_svg
from petswipe_ops.slo.report import SloReport


def reports_dir(environment: str) -> Path:
    return run_dir(environment) / "slo" / "reports"


def save(report: SloReport, retention_days: int = 35) -> SloReport:
    """Write the chart, the markdown and the JSON, then point `latest.json` at it."""
    folder = reports_dir(report.environment)
    folder.mkdir(parents=True, exist_ok=True)
    # Microseconds: two reports in one second (a cron run beside a manual one) stay apart.
    report_id = report.generated_at.strftime("%Y%m%dT%H%M%S.%fZ")
    chart, markdown = folder / f"{report_id}.svg", folder / f"{report_id}.md"
    report = report.model_copy(
        update={"report_id": report_id, "chart_path": str(chart), "markdown_path": str(markdown)}
    )
    write_text_atomically(chart, render_svg(report))
    write_text_atomically(markdown, render_markdown(report))
    text = report.model_dump_json(indent=1)
    write_text_atomically(folder / f"{report_id}.json", text)
    write_text_atomically(folder / "latest.json", text)
    prune(report.environment, retention_days)
    return report


def prune(environment: str, retention_days: int, now: float | None = None) -> list[Path]:
    cutoff = (time.time() if now is None else now) - retention_days * 86400
    gone = []
    for path in reports_dir(environment).glob("2*.*"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            gone.append(path)
    return gone


def latest(environment: str) -> SloReport | None:
    path = reports_dir(environment) / "latest.json"
    if not path.is_file():
        return None
    try:
        return SloReport.model_validate_json(path.read_text())
    except ValidationError as exc:
        raise ConfigError(
            f"{path} is not a readable SLO report ({exc.error_count()} problems); "
            "delete it and run `make slo-status` again."
        ) from None


def all_reports(environment: str) -> list[SloReport]:
    return [
        SloReport.model_validate_json(p.read_text())
        for p in sorted(reports_dir(environment).glob("2*.json"))
    ]
