"""`make cost-report`: what an environment actually cost, by day, tag and AWS service.

The rows come from Cost Explorer (platform/aws/cost_explorer.py); this module turns them
into the printed table and a stacked-bar SVG, one bar per day and one colour per service.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from html import escape

from petswipe_ops.platform.aws.cost_explorer import CostRow

COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 900, 420, 70, 220, 50, 360


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5 or 5 times a power of ten)."""
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if value <= step * power)


def as_table(rows: list[CostRow], environment: str) -> str:
    """Spend per day and per (tag, service), then totals per service."""
    if not rows:
        return f"Cost Explorer has no spend for environment {environment} in the period."
    width = max(len(f"{r.tag} / {r.service}") for r in rows) + 2
    lines = [
        f"Spend of {environment} by day, Service tag and AWS service (UnblendedCost, USD)",
        f"{'day':<12}{'tag / service':<{width}}{'USD':>10}",
    ]
    for row in sorted(rows, key=lambda r: (r.day, -r.amount_usd)):
        lines.append(
            f"{row.day.isoformat():<12}{row.tag + ' / ' + row.service:<{width}}"
            f"{row.amount_usd:>10.2f}"
        )
    lines.append("")
    for service, total in sorted(totals(rows).items(), key=lambda kv: -kv[1]):
        lines.append(f"{'total':<12}{service:<{width}}{total:>10.2f}")
    lines.append(f"{'total':<12}{'all services':<{width}}{sum(r.amount_usd for r in rows):>10.2f}")
    return "\n".join(lines)


def totals(rows: list[CostRow]) -> dict[str, float]:
    found: dict[str, float] = defaultdict(float)
    for row in rows:
        found[row.service] += row.amount_usd
    return dict(found)


def render_svg(rows: list[CostRow], environment: str) -> str:
    """Stacked bars: one per day, one colour per AWS service, with a legend."""
    by_day: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        by_day[row.day][row.service] += row.amount_usd
    days = sorted(by_day)
    services = sorted(totals(rows), key=lambda s: -totals(rows)[s])
    top = _nice_max(max([sum(v.values()) for v in by_day.values()] + [1.0]))
    plot_w = WIDTH - LEFT - RIGHT
    bar = plot_w / max(len(days), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">',
        f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="15">'
        f"Daily spend of {escape(environment)} by AWS service (USD)</text>",
        f'<line x1="{LEFT}" y1="{BOTTOM}" x2="{LEFT + plot_w}" y2="{BOTTOM}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{BOTTOM}" stroke="#333"/>',
    ]
    for i in range(5):
        value = top * i / 4
        y = BOTTOM - (BOTTOM - TOP) * i / 4
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{value:g}</text>"
        )
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
        )
    for index, day in enumerate(days):
        x = LEFT + index * bar + bar * 0.1
        y = float(BOTTOM)
        for s_index, service in enumerate(services):
            amount = by_day[day].get(service, 0.0)
            height = (BOTTOM - TOP) * amount / top
            y -= height
            colour = COLOURS[s_index % len(COLOURS)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.8:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{day} {escape(service)}: {amount:.2f} USD</title></rect>'
            )
        parts.append(
            f'<text x="{x + bar * 0.4:.1f}" y="{BOTTOM + 16}" text-anchor="middle" '
            f'font-size="10">{day:%m-%d}</text>'
        )
    for s_index, service in enumerate(services):
        y = TOP + s_index * 20
        colour = COLOURS[s_index % len(COLOURS)]
        parts.append(
            f'<rect x="{WIDTH - RIGHT + 15}" y="{y}" width="12" height="12" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT + 32}" y="{y + 10}" font-size="11">{escape(service)}</text>'
        )
    parts.append("</svg>\n")
    return "\n".join(parts)
