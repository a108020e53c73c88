"""Benchmark: the predictive-scaling forecast against seasonal naive, and its capacity plan
against purely reactive target tracking.

Three weeks of seeded synthetic request rates, one value a minute: a daily cycle (busy
evenings), quieter weekends, a 4 % a week growth trend, lognormal minute noise with
bursts, and one holiday-like anomaly (a Wednesday of week two at 35 % of normal). The
model trains on the first two weeks and forecasts the third, 48 hours at a time as the
flow does (refitted every 48 h on everything before). Seasonal naive predicts each hour
with the same hour one week earlier.

The capacity simulation runs minute by minute through the third week. Reactive target
tracking sizes the service for the rate it saw 5 minutes earlier at 70 % utilisation.
The predictive plan adds the forecast's floor (tasks for the 90th-percentile band,
10 minutes ahead of each hour) under the same reactive tracking, as deployed. A minute
is under-provisioned when demand exceeds what the running tasks serve at 100 %.

Run: uv run python bench/forecast.py   (under a minute on 2 cores)
"""

from __future__ import annotations

import json
import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from petswipe_ops.scaling.forecast import Point, fit_forecast, hourly, mape, seasonal_naive
from petswipe_ops.scaling.plan import CapacitySettings, plan_capacity

SEED = 20261201
START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
MINUTES = 21 * 24 * 60
TRAIN_MINUTES = 14 * 24 * 60
HORIZON_HOURS = 48
REACTIVE_LAG_MINUTES = 5
SETTINGS = CapacitySettings(
    requests_per_task=40.0, target_utilization=0.7, min_tasks=2, max_tasks=40, lead_minutes=10
)


def synthetic_rates(rng: np.random.Generator) -> np.ndarray:
    minutes = np.arange(MINUTES)
    hours = minutes / 60.0
    hour_of_day = hours % 24
    day = (minutes // (24 * 60)) % 7
    daily = 0.35 + 0.65 * np.exp(-(((hour_of_day - 20) / 4.0) ** 2))
    daily += 0.3 * np.exp(-(((hour_of_day - 12.5) / 2.0) ** 2))
    weekly = np.where(day >= 5, 0.75, 1.0) * np.where(day == 4, 1.1, 1.0)
    trend = 1 + 0.04 * hours / (24 * 7)
    holiday = np.where((minutes // (24 * 60)) == 9, 0.35, 1.0)
    # slow noise (5-minute AR walk) and minute noise with occasional bursts
    slow = np.repeat(_ar(rng, MINUTES // 5 + 1, 0.8, 0.06), 5)[:MINUTES]
    fast = rng.normal(0, 0.08, MINUTES)
    bursts = np.where(rng.random(MINUTES) < 0.004, rng.uniform(0.3, 0.7, MINUTES), 0.0)
    return 300.0 * daily * weekly * trend * holiday * np.exp(slow + fast + bursts)


def _ar(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    out = np.zeros(n)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + rng.normal(0, sigma)
    return out


def to_points(rates: np.ndarray, offset: int = 0) -> list[Point]:
    return [
        Point(at=START + timedelta(minutes=offset + i), value=float(v)) for i, v in enumerate(rates)
    ]


def holt_winters(history: list[Point], horizon: int) -> list[Point]:
    """statsmodels' additive-trend, multiplicative weekly-season Holt-Winters, for reference."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    fit = ExponentialSmoothing(
        np.array([p.value for p in history]),
        trend="add",
        damped_trend=True,
        seasonal="mul",
        seasonal_periods=24 * 7,
        initialization_method="heuristic",
    ).fit()
    start = history[-1].at
    return [
        Point(at=start + timedelta(hours=i + 1), value=float(v))
        for i, v in enumerate(fit.forecast(horizon))
    ]


def underprovisioned(demand: np.ndarray, tasks: np.ndarray) -> int:
    return int(np.sum(demand > tasks * SETTINGS.requests_per_task))


def main() -> None:
    rng = np.random.default_rng(SEED)
    rates = synthetic_rates(rng)
    hourly_all = hourly(to_points(rates))
    train_hours = TRAIN_MINUTES // 60
    actual_test = hourly_all[train_hours:]

    model_points: list[Point] = []
    naive_points: list[Point] = []
    floors = np.zeros(MINUTES - TRAIN_MINUTES, dtype=int)
    for start_hour in range(train_hours, len(hourly_all), HORIZON_HOURS):
        history = hourly_all[:start_hour]
        horizon = min(HORIZON_HOURS, len(hourly_all) - start_hour)
        forecast = fit_forecast(history, horizon_hours=horizon)
        model_points += forecast.points
        naive_points += seasonal_naive(history, horizon)
        plan = plan_capacity(forecast, SETTINGS, "bench", history[-1].at)
        for minute in range(horizon * 60):
            index = (start_hour - train_hours) * 60 + minute
            floors[index] = plan.tasks_at(START + timedelta(minutes=TRAIN_MINUTES + index))

    model_mape = mape(actual_test, model_points)
    holt_winters_mape = mape(actual_test, holt_winters(hourly_all[:train_hours], len(actual_test)))
    naive_mape = mape(actual_test, naive_points)

    demand = rates[TRAIN_MINUTES:]
    seen = rates[TRAIN_MINUTES - REACTIVE_LAG_MINUTES : MINUTES - REACTIVE_LAG_MINUTES]
    reactive = np.array([SETTINGS.tasks_for(v) for v in seen])
    predictive = np.maximum(reactive, floors)
    reactive_under = underprovisioned(demand, reactive)
    predictive_under = underprovisioned(demand, predictive)
    floor_only_under = underprovisioned(demand, np.maximum(floors, SETTINGS.min_tasks))
    task_hours = {"reactive": reactive.sum() / 60, "predictive": predictive.sum() / 60}

    print(f"test week: {len(actual_test)} hours, {len(demand)} minutes")
    print(f"model MAPE (seasonal robust regression, 48 h ahead): {model_mape:.2%}")
    print(f"seasonal-naive MAPE (same hour one week earlier):   {naive_mape:.2%}")
    print(f"Holt-Winters MAPE (weekly season, one fit):         {holt_winters_mape:.2%}")
    print(f"MAPE ratio model / seasonal naive:                  {model_mape / naive_mape:.3f}")
    print(f"under-provisioned minutes, reactive (5 min lag):    {reactive_under}")
    print(f"under-provisioned minutes, predictive + reactive:   {predictive_under}")
    print(f"under-provisioned minutes, forecast floor alone:    {floor_only_under}")
    print(
        f"task-hours: reactive {task_hours['reactive']:.0f}, "
        f"predictive {task_hours['predictive']:.0f} "
        f"({task_hours['predictive'] / task_hours['reactive'] - 1:+.1%})"
    )
    ratio = predictive_under / reactive_under if reactive_under else math.inf
    print(
        json.dumps(
            {
                "mape": round(model_mape, 4),
                "mape_seasonal_naive": round(naive_mape, 4),
                "mape_ratio_to_seasonal_naive": round(model_mape / naive_mape, 3),
                "mape_holt_winters": round(holt_winters_mape, 4),
                "underprovisioned_minutes": predictive_under,
                "underprovisioned_minutes_reactive": reactive_under,
                "underprovisioned_minutes_ratio_to_reactive": round(ratio, 3),
                "task_hours_ratio_to_reactive": round(
                    task_hours["predictive"] / task_hours["reactive"], 3
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
