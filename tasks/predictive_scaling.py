"""Thin Prefect tasks over the library's predictive-scaling steps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from petswipe_ops.config import EnvironmentConfig, load_environment
from petswipe_ops.paths import project_root
from petswipe_ops.scaling import run
from petswipe_ops.scaling.forecast import Forecast, Point
from petswipe_ops.scaling.plan import ScalingPlan

step = task(cache_policy=NO_CACHE, retries=0)


@step(name="load environment")
def load(environment: str) -> EnvironmentConfig:
    return load_environment(environment, project_root())


@step(name="read request-rate history")
def read_history(config: EnvironmentConfig, now: datetime) -> list[Point]:
    return run.read_history(config, now)


@step(name="forecast and plan capacity")
def forecast_and_plan(
    config: EnvironmentConfig, history: list[Point], now: datetime
) -> tuple[Forecast, ScalingPlan]:
    return run.forecast_and_plan(config, history, now)


@step(name="write plan and chart")
def write_outputs(
    config: EnvironmentConfig, history: list[Point], forecast: Forecast, plan: ScalingPlan
) -> tuple[Path, Path]:
    return run.write_outputs(config, history, forecast, plan)


@step(name="apply the plan")
def apply_plan(config: EnvironmentConfig, plan: ScalingPlan, now: datetime) -> dict[str, Any]:
    return run.apply_plan(config, plan, now)
