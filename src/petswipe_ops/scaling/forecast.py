"""A seasonal forecast of request rate: hour-of-day by day type, day of week and trend.

Fitted on the log of hourly rates with statsmodels' robust linear model (Huber's T), so
a holiday or an outage in the history pulls the fit far less than it pulls a seasonal
naive forecast or Holt-Winters. The hour-of-day profile is shared by the weekdays and by
the weekend days, which is what lets a single week of history say something about next
Tuesday: seasonal naive has one sample per hour of the week, this model has five.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import statsmodels.api as sm
from pydantic import BaseModel

from petswipe_ops.errors import OpsError

HOUR = timedelta(hours=1)
MIN_HISTORY_HOURS = 7 * 24
MIN_COVERAGE = 0.9
FLOOR_RPS = 0.01
TREND_DAYS = 13


class InsufficientHistory(OpsError):
    """Too little request-rate history to fit the weekly pattern."""


class Point(BaseModel):
    at: datetime
    value: float


class Forecast(BaseModel):
    """Hourly forecast: the expected rate and an upper band (`quantile` of the residuals)."""

    points: list[Point]
    upper: list[Point]
    quantile: float
    residual_sigma: float


def hourly(points: list[Point]) -> list[Point]:
    """Mean rate per UTC hour, in time order."""
    buckets: dict[datetime, list[float]] = {}
    for p in points:
        hour = p.at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        buckets.setdefault(hour, []).append(p.value)
    return [Point(at=h, value=sum(v) / len(v)) for h, v in sorted(buckets.items())]


def check_history(history: list[Point], needed_hours: int = MIN_HISTORY_HOURS) -> None:
    """Refuse a history shorter than a week (or with too many gaps) before fitting it."""
    span = (history[-1].at - history[0].at) / HOUR + 1 if len(history) >= 2 else len(history)
    if span < needed_hours - 1 or len(history) < MIN_COVERAGE * needed_hours:
        raise InsufficientHistory(
            f"only {len(history)} hours of request-rate history over {span:.0f} hours; the "
            f"forecast needs {needed_hours} hours ({needed_hours // 24} days) with at most "
            f"{1 - MIN_COVERAGE:.0%} missing: wait until the metrics hold a full week or "
            "backfill them."
        )


def _features(times: list[datetime], origin: datetime, trend: bool) -> np.ndarray:
    rows = []
    for t in times:
        weekend = t.weekday() >= 5
        row = [1.0] + ([(t - origin) / timedelta(days=7)] if trend else [])
        # hour-of-day profile per day type (hour 0 of weekdays is the baseline)
        for day_type in (False, True):
            for hour in range(24):
                if (day_type, hour) == (False, 0):
                    continue
                row.append(1.0 if (weekend == day_type and t.hour == hour) else 0.0)
        # day-of-week level within its day type (Monday and Saturday are the baselines)
        for day in (1, 2, 3, 4, 6):
            row.append(1.0 if t.weekday() == day else 0.0)
        rows.append(row)
    return np.array(rows)


def fit_forecast(history: list[Point], horizon_hours: int = 48, quantile: float = 0.9) -> Forecast:
    """Forecast `horizon_hours` past the last hour of `history` (hourly points)."""
    check_history(history)
    origin = history[0].at
    times = [p.at for p in history]
    y = np.log(np.maximum([p.value for p in history], FLOOR_RPS))
    # With one week, a trend cannot be told from the day-of-week levels: fit it from two.
    trend = (times[-1] - times[0]) >= timedelta(days=TREND_DAYS)
    x = _features(times, origin, trend)
    model = sm.RLM(y, x, M=sm.robust.norms.HuberT()).fit()
    residuals = y - model.predict(x)
    inliers = residuals[np.abs(residuals) <= 3 * max(model.scale, 1e-9)]
    sigma = float(np.std(inliers)) if len(inliers) > 1 else 0.0
    z = _normal_quantile(quantile)
    future = [history[-1].at + HOUR * (i + 1) for i in range(horizon_hours)]
    predicted = model.predict(_features(future, origin, trend))
    return Forecast(
        points=[
            Point(at=t, value=float(math.exp(v))) for t, v in zip(future, predicted, strict=True)
        ],
        upper=[
            Point(at=t, value=float(math.exp(v + z * sigma)))
            for t, v in zip(future, predicted, strict=True)
        ],
        quantile=quantile,
        residual_sigma=sigma,
    )


def seasonal_naive(history: list[Point], horizon_hours: int) -> list[Point]:
    """The same hour one week earlier: the baseline every forecast must beat."""
    by_time = {p.at: p.value for p in history}
    week = timedelta(days=7)
    start = history[-1].at
    out = []
    for i in range(horizon_hours):
        t = start + HOUR * (i + 1)
        earlier = t - week
        while earlier not in by_time and earlier > history[0].at:
            earlier -= week
        out.append(Point(at=t, value=by_time.get(earlier, history[-1].value)))
    return out


def mape(actual: list[Point], predicted: list[Point]) -> float:
    """Mean absolute percentage error over the hours both series have."""
    truth = {p.at: p.value for p in actual}
    errors = [
        abs(p.value - truth[p.at]) / truth[p.at]
        for p in predicted
        if p.at in truth and truth[p.at] > 0
    ]
    if not errors:
        raise OpsError("the forecast and the actual rates share no hour; compare the same span.")
    return sum(errors) / len(errors)


def _normal_quantile(q: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(q)
