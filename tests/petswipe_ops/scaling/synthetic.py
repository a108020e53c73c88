"""Seeded synthetic request rates with daily and weekly seasonality, for the scaling tests."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from petswipe_ops.scaling.forecast import Point


def weekly_rates(
    end: datetime, days: int, *, base: float = 100.0, noise: float = 0.05, seed: int = 7
) -> list[Point]:
    """Hourly rates ending at `end`: busy evenings, quieter weekends, a little noise."""
    rng = random.Random(seed)
    start = end.replace(minute=0, second=0, microsecond=0) - timedelta(days=days)
    points = []
    for hour in range(days * 24):
        at = start + timedelta(hours=hour)
        daily = 0.4 + 0.6 * math.exp(-(((at.hour - 20) / 4.0) ** 2))
        weekly = 0.7 if at.weekday() >= 5 else 1.0
        points.append(
            Point(
                at=at.astimezone(UTC), value=base * daily * weekly * math.exp(rng.gauss(0, noise))
            )
        )
    return points
