"""Thin Prefect tasks over the library's secret rotation."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from petswipe_ops.config import EnvironmentConfig, load_environment
from petswipe_ops.notify import Notification, notify
from petswipe_ops.paths import project_root
from petswipe_ops.secrets.environment import rotation_for
from petswipe_ops.secrets.model import SecretKind
from petswipe_ops.secrets.rotation import RotationResult

step = task(cache_policy=NO_CACHE, retries=0)


@step(name="load environment")
def load(environment: str) -> EnvironmentConfig:
    return load_environment(environment, project_root())


@step(name="rotate", task_run_name="rotate {kind}")
def rotate(config: EnvironmentConfig, kind: SecretKind) -> RotationResult:
    result = rotation_for(config, kind).run()
    logger = get_run_logger()
    for entry in result.steps:
        logger.info("%s %s: %s %s", result.name, entry.step.value, entry.status.value, entry.detail)
    return result


@step(name="notify")
def send_notification(config: EnvironmentConfig, text: str) -> Notification:
    sent = notify(text, config.backup.notify_webhook_env)
    if not sent.delivered:
        get_run_logger().warning("notification (no webhook configured): %s", text)
    return sent
