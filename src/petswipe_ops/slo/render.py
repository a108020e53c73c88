"""The report as people read it: a markdown table, terminal rows, an SVG chart.

The chart has two panels per SLO: the budget burn-down over the SLO window, and the
burn rate of each alert window beside the workbook threshold that window pages or
tickets at.
"""

from __future__ import annotations

from html import escape

from petswipe_ops.slo.report import SloReport, SloStatus
from petswipe_ops.slo.windows import CONDITIONS, RATIO_WINDOWS, human

ALERT_WINDOWS = tuple(w for w in RATIO_WINDOWS if w != "30d")


def percent(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f} %"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def burn(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def history_note(status: SloStatus) -> str:
    """Empty when the whole window has data, else how much there is."""
    if status.history_seconds >= status.window_seconds:
        return ""
    return f"{duration(status.history_seconds)} of {human(status.window)} history"


def table_rows(report: SloReport) -> list[dict[str, str]]:
    rows = []
    for s in report.slos:
        row = {
            "SLO": s.name,
            "objective": percent(s.objective, 1 if s.objective < 0.99 else 2),
            "window": human(s.window),
            "SLI": percent(s.sli, 3),
            "budget remaining": percent(s.budget_remaining, 1),
        }
        row.update({f"burn {w}": burn(s.burn(w)) for w in ALERT_WINDOWS})
        row["alert"] = s.state.value + (f" ({', '.join(s.firing)})" if s.firing else "")
        row["history"] = history_note(s) or "full window"
        rows.append(row)
    return rows


def budget_rows(report: SloReport) -> list[dict[str, str]]:
    rows = []
    for s in report.slos:
        hourly = s.burn("1h")
        if s.budget_remaining is None:
            exhaustion = "no data"
        elif s.spent:
            exhaustion = "spent"
        elif not hourly:
            exhaustion = "not burning"
        else:
            exhaustion = duration(s.exhaustion_seconds)
        rows.append(
            {
                "SLO": s.name,
                "window": human(s.window),
                "budget remaining": percent(s.budget_remaining, 1),
                "1h burn rate": burn(hourly),
                "exhausted in": exhaustion,
                "history": history_note(s) or "full window",
            }
        )
    return rows


def markdown_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "_no SLOs_\n"
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r[h] for h in head) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def render_markdown(report: SloReport) -> str:
    when = report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"# SLOs of {report.environment} at {when}\n",
        f"Source: {report.source}. Burn rate 1x spends exactly the budget over the SLO window; "
        "pages at 14.4x over 1 h and 5 min or 6x over 6 h and 30 min, tickets at 3x over "
        "1 d and 2 h or 1x over 3 d and 6 h.\n",
        markdown_table(table_rows(report)),
    ]
    if report.chart_path:
        parts.append(f"\nChart: {report.chart_path}\n")
    return "\n".join(parts)


WIDTH, PANEL_H, LEFT = 900, 170, 60


def _burndown_panel(status: SloStatus, top: int) -> list[str]:
    x0, x1, y0, y1 = LEFT, 430, top + 20, top + PANEL_H - 25
    out = [
        f'<text x="{x0}" y="{top + 12}" font-size="12">{escape(status.name)}: budget left '
        f"over {human(status.window)} ({percent(status.budget_remaining, 1)})</text>",
        f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="none" stroke="#999"/>',
    ]
    points = status.burndown
    if not points:
        out.append(f'<text x="{x0 + 10}" y="{(y0 + y1) // 2}" font-size="11">no data</text>')
        return out
    lowest = min(0.0, min(v for _, v in points))
    t0, t1 = points[0][0], max(points[-1][0], points[0][0] + 1)

    def y(v: float) -> float:
        return y1 - (v - lowest) / (1 - lowest) * (y1 - y0)

    path = " ".join(f"{x0 + (t - t0) / (t1 - t0) * (x1 - x0):.1f},{y(v):.1f}" for t, v in points)
    out.append(f'<line x1="{x0}" x2="{x1}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#c00"/>')
    out.append(f'<polyline points="{path}" fill="none" stroke="#06c" stroke-width="1.5"/>')
    last_x, last_y = path.rsplit(" ", 1)[-1].split(",")
    out.append(f'<circle cx="{last_x}" cy="{last_y}" r="3" fill="#06c"/>')
    out.append(f'<text x="{x0 - 5}" y="{y0 + 4}" font-size="10" text-anchor="end">100 %</text>')
    out.append(f'<text x="{x0 - 5}" y="{y(0) + 4:.1f}" font-size="10" text-anchor="end">0 %</text>')
    return out


def _burn_panel(status: SloStatus, top: int) -> list[str]:
    x0, x1, y0, y1 = 500, WIDTH - 20, top + 20, top + PANEL_H - 25
    thresholds: dict[str, float] = {}
    for c in CONDITIONS:
        for w in (c.long, c.short):
            thresholds[w] = min(thresholds.get(w, c.factor), c.factor)
    rates = {w: status.burn(w) or 0.0 for w in ALERT_WINDOWS}
    ceiling = max([16.0, *rates.values()])
    out = [
        f'<text x="{x0}" y="{top + 12}" font-size="12">burn rate per window vs threshold</text>',
        f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="none" stroke="#999"/>',
    ]
    slot = (x1 - x0) / len(ALERT_WINDOWS)
    for i, window in enumerate(ALERT_WINDOWS):
        rate = rates[window]
        height = min(rate, ceiling) / ceiling * (y1 - y0)
        limit = thresholds[window]
        colour = "#c00" if rate > limit else "#393"
        x = x0 + i * slot + slot * 0.2
        out.append(
            f'<rect x="{x:.1f}" y="{y1 - height:.1f}" width="{slot * 0.6:.1f}" '
            f'height="{height:.1f}" fill="{colour}"/>'
        )
        ly = y1 - limit / ceiling * (y1 - y0)
        out.append(
            f'<line x1="{x:.1f}" x2="{x + slot * 0.6:.1f}" y1="{ly:.1f}" y2="{ly:.1f}" '
            'stroke="#000" stroke-dasharray="3,2"/>'
        )
        out.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{y1 + 12}" font-size="10" '
            f'text-anchor="middle">{window} {rate:.1f}x</text>'
        )
    return out


def render_svg(report: SloReport) -> str:
    height = PANEL_H * max(1, len(report.slos)) + 30
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        'font-family="sans-serif">',
        f'<text x="10" y="18" font-size="14">SLOs of {escape(report.environment)} at '
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC (dashed: the threshold of each window)</text>",
    ]
    for i, status in enumerate(report.slos):
        top = 30 + i * PANEL_H
        body += _burndown_panel(status, top)
        body += _burn_panel(status, top)
    body.append("</svg>")
    return "\n".join(body) + "\n"
