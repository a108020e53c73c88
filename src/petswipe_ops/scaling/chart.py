"""The predictive-scaling chart as SVG: history and forecast (requests/s) and planned tasks."""

from __future__ import annotations

from datetime import datetime
from html import escape

from petswipe_ops.scaling.forecast import Forecast, Point
from petswipe_ops.scaling.plan import ScalingPlan

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 980, 400, 70, 70, 50, 340


def render_svg(history: list[Point], forecast: Forecast, plan: ScalingPlan) -> str:
    start = history[0].at if history else forecast.points[0].at
    end = forecast.points[-1].at
    top = max([p.value for p in history + forecast.upper] + [1.0]) * 1.1
    top_tasks = max(plan.max_tasks, 1)
    span = max((end - start).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (at - start).total_seconds() / span

    def y(value: float, scale: float) -> float:
        return BOTTOM - (BOTTOM - TOP) * value / scale

    def line(points: list[Point], colour: str, dash: str = "") -> str:
        path = " ".join(f"{x(p.at):.1f},{y(p.value, top):.1f}" for p in points)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        return (
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"{extra}/>'
        )

    steps = []
    for hour in plan.hours:
        steps.append(f"{x(hour.at):.1f},{y(hour.tasks, top_tasks):.1f}")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">',
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15">'
        f"Predictive scaling of {escape(plan.environment)}: history, 48 h forecast and "
        "planned tasks</text>",
        f'<line x1="{LEFT}" y1="{BOTTOM}" x2="{WIDTH - RIGHT}" y2="{BOTTOM}" stroke="#333"/>',
        line(history, "#4292c6"),
        line(forecast.points, "#d95f02"),
        line(forecast.upper, "#d95f02", "4 3"),
        f'<polyline points="{" ".join(steps)}" fill="none" stroke="#1b9e77" stroke-width="2"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="11">{top:.0f} rps</text>',
        f'<text x="{WIDTH - RIGHT + 6}" y="{TOP + 4}" font-size="11">{top_tasks} tasks</text>',
        f'<text x="{LEFT}" y="{BOTTOM + 18}" font-size="11">{start:%Y-%m-%d %H:%M}</text>',
        f'<text x="{WIDTH - RIGHT}" y="{BOTTOM + 18}" text-anchor="end" font-size="11">'
        f"{end:%Y-%m-%d %H:%M} UTC</text>",
        f'<line x1="{x(plan.made_at):.1f}" y1="{TOP}" x2="{x(plan.made_at):.1f}" y2="{BOTTOM}" '
        'stroke="#999" stroke-dasharray="2 2"/>',
    ]
    legend = [
        ("#4292c6", "history (requests/s)"),
        ("#d95f02", f"forecast and its {forecast.quantile:.0%} band"),
        ("#1b9e77", "planned tasks (right axis)"),
    ]
    for i, (colour, label) in enumerate(legend):
        parts.append(
            f'<rect x="{LEFT + i * 260}" y="{HEIGHT - 28}" width="12" height="12" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{LEFT + i * 260 + 18}" y="{HEIGHT - 18}" font-size="11">{label}</text>'
        )
    parts.append("</svg>\n")
    return "\n".join(parts)
