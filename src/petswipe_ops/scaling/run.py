"""One predictive-scaling run: read a week of history, forecast 48 h, plan, apply, chart.

The flow calls these steps in order; each is idempotent (the AWS actions are named for the
hour they serve, the local replica count is converged), so a run every 15 minutes that is
interrupted is simply finished by the next one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from petswipe_ops.config import EnvironmentConfig, HistorySource, PlatformKind
from petswipe_ops.errors import ConfigError
from petswipe_ops.jsonfile import write_atomically
from petswipe_ops.paths import project_root, run_dir
from petswipe_ops.scaling.chart import render_svg
from petswipe_ops.scaling.forecast import Forecast, Point, fit_forecast, hourly
from petswipe_ops.scaling.history import (
    FileRequestRate,
    PrometheusRequestRate,
    RequestRateHistory,
)
from petswipe_ops.scaling.plan import CapacitySettings, ScalingPlan, plan_capacity, replicas_to_run

STEP_SECONDS = 300


class ScalingOutcome(BaseModel):
    environment: str
    platform: str
    applied: dict[str, Any]
    chart: str
    plan_file: str


def settings_for(config: EnvironmentConfig) -> CapacitySettings:
    scaling = config.scaling
    default_min = config.service.replicas if config.platform is PlatformKind.AWS else 1
    minimum = scaling.min_tasks or default_min
    return CapacitySettings(
        requests_per_task=scaling.requests_per_task,
        target_utilization=scaling.target_utilization,
        min_tasks=minimum,
        max_tasks=max(scaling.max_tasks, minimum),
        lead_minutes=scaling.lead_minutes,
    )


def history_source(config: EnvironmentConfig) -> RequestRateHistory:
    scaling = config.scaling
    kind = scaling.history or (
        HistorySource.CLOUDWATCH
        if config.platform is PlatformKind.AWS
        else HistorySource.PROMETHEUS
    )
    if kind is HistorySource.FILE:
        if not scaling.history_file:
            raise ConfigError(
                f"scaling.history is 'file' in deployments/{config.environment}.yaml but "
                "scaling.history_file is not set; name the JSON file of request rates."
            )
        path = Path(scaling.history_file)
        return FileRequestRate(path if path.is_absolute() else project_root() / path)
    if kind is HistorySource.CLOUDWATCH:
        if config.aws is None:
            raise ConfigError(
                f"scaling.history is 'cloudwatch' but {config.environment} has no aws section; "
                "use prometheus or file on the local platform."
            )
        from petswipe_ops.platform.aws.cloudwatch_history import CloudWatchRequestRate
        from petswipe_ops.platform.aws.platform import AwsPlatform

        platform = AwsPlatform(config)
        return CloudWatchRequestRate(platform.clients, platform.outputs)
    return PrometheusRequestRate(scaling.prometheus_url, scaling.request_rate_query)


def read_history(config: EnvironmentConfig, now: datetime) -> list[Point]:
    """The last `history_days` of request rate, as hourly means."""
    start = now - timedelta(days=config.scaling.history_days, hours=1)
    points = history_source(config).request_rate(start, now, STEP_SECONDS)
    return hourly(points)


def forecast_and_plan(
    config: EnvironmentConfig, history: list[Point], now: datetime
) -> tuple[Forecast, ScalingPlan]:
    forecast = fit_forecast(
        history, horizon_hours=config.scaling.horizon_hours, quantile=config.scaling.quantile
    )
    plan = plan_capacity(forecast, settings_for(config), config.environment, now)
    return forecast, plan


def apply_plan(config: EnvironmentConfig, plan: ScalingPlan, now: datetime) -> dict[str, Any]:
    """AWS: scheduled actions ahead of the load. Local: the replica count the plan calls for."""
    if config.platform is PlatformKind.AWS:
        from petswipe_ops.platform.aws.app_autoscaling import ScheduledScaling
        from petswipe_ops.platform.aws.platform import AwsPlatform

        platform = AwsPlatform(config)
        future = [a for a in plan.actions() if a.at > now]
        return ScheduledScaling(platform.clients, platform.outputs).apply(future)
    scaler = local_scaler(config)
    running = scaler.processes()
    observed = scaler.observed_rps()
    target = replicas_to_run(plan, settings_for(config), now, running, observed)
    return {"planned": plan.tasks_at(now), "observed_rps": observed, **scaler.scale_to(target)}


def local_scaler(config: EnvironmentConfig):
    from petswipe_ops.platform.local.sandbox import LocalSandbox
    from petswipe_ops.platform.local.scaler import LocalScaler

    sandbox = LocalSandbox(config)
    if not sandbox.status().router_running:
        raise ConfigError(
            f"the {config.environment} sandbox is not running, so there is nothing to scale; "
            "start it with `make sandbox-up`."
        )
    return LocalScaler(
        run_dir=sandbox.run_dir,
        script=sandbox.root / "sandbox" / "petswipe_service.py",
        socket_path=sandbox.socket_path,
        database_url=sandbox.database.url,
        stable_version=sandbox.stable_version(),
        health_path=config.service.health_check.path,
    )


def write_outputs(
    config: EnvironmentConfig, history: list[Point], forecast: Forecast, plan: ScalingPlan
) -> tuple[Path, Path]:
    """The plan (JSON, what the sandbox follows) and the chart, in the run folder."""
    folder = run_dir(config.environment) / "scaling"
    folder.mkdir(parents=True, exist_ok=True)
    plan_file = folder / "plan.json"
    write_atomically(plan_file, plan)
    chart = folder / f"predictive-scaling-{plan.made_at:%Y%m%dT%H%M}.svg"
    chart.write_text(render_svg(history, forecast, plan))
    return plan_file, chart


def run_once(config: EnvironmentConfig, now: datetime | None = None) -> ScalingOutcome:
    """The whole run without Prefect (the CLI's `infra predictive-scaling`)."""
    moment = now or datetime.now(UTC)
    history = read_history(config, moment)
    forecast, plan = forecast_and_plan(config, history, moment)
    plan_file, chart = write_outputs(config, history, forecast, plan)
    applied = apply_plan(config, plan, moment)
    return ScalingOutcome(
        environment=config.environment,
        platform=config.platform.value,
        applied=applied,
        chart=str(chart),
        plan_file=str(plan_file),
    )
