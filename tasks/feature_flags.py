"""Thin Prefect tasks over the library's flag rollout and analytics."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from petswipe_ops.config import EnvironmentConfig, load_environment
from petswipe_ops.flags.analytics import AnalyticsReport, AnalyticsStore, Snapshot, build_report
from petswipe_ops.flags.environment import flags_dir, metrics_for, rollout_for, store_for
from petswipe_ops.flags.rollout import RolloutRecord, Strategy
from petswipe_ops.notify import Notification, notify
from petswipe_ops.paths import project_root

step = task(cache_policy=NO_CACHE, retries=0)


@step(name="load environment")
def load(environment: str) -> EnvironmentConfig:
    return load_environment(environment, project_root())


@step(name="begin rollout")
def begin(config: EnvironmentConfig, flag: str, strategy: Strategy, scale: float | None):
    rollout = rollout_for(config)
    record = rollout.begin(flag, strategy, scale)
    return record, rollout.plan(record)


@step(name="rollout step", task_run_name="{flag} at {percent} %")
def rollout_step(
    config: EnvironmentConfig, record: RolloutRecord, flag: str, percent: float, seconds: float
) -> RolloutRecord:
    record = rollout_for(config).step(record, percent, seconds)
    last = record.steps[-1]
    get_run_logger().info(
        "%s at %g %%: %s (on %d / off %d requests) %s",
        flag,
        percent,
        last.status,
        last.on_requests,
        last.off_requests,
        last.detail,
    )
    return record


@step(name="finish rollout")
def finish(config: EnvironmentConfig, record: RolloutRecord) -> RolloutRecord:
    return rollout_for(config).finish(record)


@step(name="snapshot flag metrics")
def snapshot(config: EnvironmentConfig) -> Snapshot:
    source = metrics_for(config)
    taken = Snapshot(flags=source.read() if source else {})
    AnalyticsStore(flags_dir(config.environment) / "analytics").add(taken)
    return taken


@step(name="analytics report")
def report(config: EnvironmentConfig) -> AnalyticsReport:
    store = AnalyticsStore(flags_dir(config.environment) / "analytics")
    built = build_report(config.environment, store, store_for(config).latest().document)
    store.save(built)
    return built


@step(name="notify")
def send_notification(config: EnvironmentConfig, text: str) -> Notification:
    sent = notify(text, config.backup.notify_webhook_env)
    if not sent.delivered:
        get_run_logger().warning("notification (no webhook configured): %s", text)
    return sent
