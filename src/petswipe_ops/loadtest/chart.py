"""The campaign chart as a self-contained SVG: no plotting dependency, crisp at any
size, small enough to inline in the HTML report and the Prefect artifact.

Left: each scenario's p50/p90/p95/p99 with the 500 ms and 1000 ms thresholds, and its
throughput. Right: p95 of every stored run per scenario, oldest to newest.
"""

from __future__ import annotations

import math
from html import escape

from petswipe_ops.loadtest.history import ScenarioRun

WIDTH, HEIGHT = 980, 420
PANEL_TOP, PANEL_BOTTOM = 60, 340
PERCENTILES = (("p50", "#9ecae1"), ("p90", "#4292c6"), ("p95", "#08519c"), ("p99", "#08306b"))
SCENARIO_COLOURS = {
    "smoke": "#1b9e77",
    "load": "#d95f02",
    "stress": "#7570b3",
    "spike": "#e7298a",
    "soak": "#66a61e",
}
THRESHOLDS_MS = (500.0, 1000.0)


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _text(x: float, y: float, body: str, size: int = 11, anchor: str = "middle", **extra) -> str:
    attrs = " ".join(f'{k.replace("_", "-")}="{v}"' for k, v in extra.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'font-family="sans-serif" {attrs}>{escape(body)}</text>'
    )


def _swatch(x: float, colour: str) -> str:
    return f'<rect x="{x}" y="{HEIGHT - 30}" width="10" height="10" fill="{colour}"/>'


def _axis(x0: float, x1: float, top: float, max_value: float, label: str) -> list[str]:
    parts = []
    for i in range(5):
        value = max_value * i / 4
        y = PANEL_BOTTOM - (PANEL_BOTTOM - top) * i / 4
        parts.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        parts.append(_text(x0 - 6, y + 4, f"{value:g}", 10, "end"))
    parts.append(_text(x0 - 6, top - 10, label, 10, "end"))
    return parts


def _y(value: float, max_value: float) -> float:
    return PANEL_BOTTOM - (PANEL_BOTTOM - PANEL_TOP) * min(value, max_value) / max_value


def campaign_panel(runs: list[ScenarioRun], x0: float, x1: float) -> list[str]:
    measured = [r for r in runs if r.summary and r.summary.latency]
    top = max([r.summary.latency.p99 for r in measured] + [THRESHOLDS_MS[0] * 0.1])
    max_ms = _nice_max(top * 1.1)
    parts = [_text((x0 + x1) / 2, 30, "This campaign: latency percentiles (ms) and throughput", 13)]
    parts += _axis(x0, x1, PANEL_TOP, max_ms, "ms")
    for limit in THRESHOLDS_MS:
        if limit <= max_ms:
            y = _y(limit, max_ms)
            parts.append(
                f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="#d62728" '
                'stroke-dasharray="5,4"/>'
            )
            parts.append(_text(x1 - 2, y - 4, f"{limit:g} ms threshold", 10, "end", fill="#d62728"))
    slot = (x1 - x0) / max(1, len(runs))
    bar = min(22.0, slot / (len(PERCENTILES) + 1.5))
    for i, run in enumerate(runs):
        centre = x0 + slot * (i + 0.5)
        if run.summary and run.summary.latency:
            for j, (name, colour) in enumerate(PERCENTILES):
                value = getattr(run.summary.latency, name)
                left = centre - bar * len(PERCENTILES) / 2 + j * bar
                y = _y(value, max_ms)
                parts.append(
                    f'<rect x="{left:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" '
                    f'height="{PANEL_BOTTOM - y:.1f}" fill="{colour}">'
                    f"<title>{run.scenario} {name} {value:.1f} ms</title></rect>"
                )
            rps = f"{run.summary.rps:.1f} req/s"
        else:
            rps = "no requests"
        mark = "✓" if run.passed else "✗"
        colour = "#2ca02c" if run.passed else "#d62728"
        parts.append(_text(centre, PANEL_BOTTOM + 18, f"{mark} {run.scenario}", 12, fill=colour))
        parts.append(_text(centre, PANEL_BOTTOM + 34, rps, 10))
    legend_x = x0
    for name, colour in PERCENTILES:
        parts.append(_swatch(legend_x, colour))
        parts.append(_text(legend_x + 14, HEIGHT - 21, name, 10, "start"))
        legend_x += 50
    return parts


def trend_panel(history: dict[str, list[ScenarioRun]], x0: float, x1: float) -> list[str]:
    series = {
        name: [r for r in runs if r.summary and r.summary.latency][-20:]
        for name, runs in history.items()
    }
    series = {k: v for k, v in series.items() if v}
    values = [r.summary.latency.p95 for runs in series.values() for r in runs]
    max_ms = _nice_max(max([*values, 1.0]) * 1.1)
    parts = [_text((x0 + x1) / 2, 30, "p95 (ms) of stored runs, oldest → newest", 13)]
    parts += _axis(x0, x1, PANEL_TOP, max_ms, "ms")
    longest = max([len(v) for v in series.values()] + [2])
    legend_x = x0
    for name, runs in series.items():
        colour = SCENARIO_COLOURS.get(name, "#333")
        points = []
        for i, run in enumerate(runs):
            x = x0 + 10 + (x1 - x0 - 20) * i / (longest - 1)
            y = _y(run.summary.latency.p95, max_ms)
            points.append((x, y, run))
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for x, y, run in points:
            fill = colour if run.passed else "#d62728"
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{fill}">'
                f"<title>{run.scenario} {run.version} {run.started_at:%Y-%m-%d %H:%M} "
                f"p95 {run.summary.latency.p95:.1f} ms ({run.outcome.value})</title></circle>"
            )
        parts.append(_swatch(legend_x, colour))
        parts.append(_text(legend_x + 14, HEIGHT - 21, name, 10, "start"))
        legend_x += 70
    parts.append(_text(x1, 46, "red dot: a failed run", 10, "end", fill="#d62728"))
    return parts


def render_svg(runs: list[ScenarioRun], history: dict[str, list[ScenarioRun]]) -> str:
    body = campaign_panel(runs, 70, 470) + trend_panel(history, 570, 950)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}"><rect width="100%" height="100%" fill="white"/>'
        + "".join(body)
        + "</svg>\n"
    )
