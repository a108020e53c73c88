"""Thin Prefect tasks over the library's backup operations."""

from __future__ import annotations

import os

from prefect import get_run_logger, task
from prefect.blocks.system import Secret
from prefect.cache_policies import NO_CACHE
from pydantic import SecretStr

from petswipe_ops.backup import controls, drill, operations
from petswipe_ops.config import BackupTier, EnvironmentConfig, load_environment
from petswipe_ops.notify import Notification, notify
from petswipe_ops.paths import project_root

step = task(cache_policy=NO_CACHE, retries=0)


def _block_key(name: str) -> str | None:
    """The key stored in a Prefect Secret block, if that block exists."""
    try:
        return Secret.load(name).get()
    except ValueError:
        return None


def target_and_key(config: EnvironmentConfig) -> tuple[operations.BackupTarget, SecretStr]:
    target = operations.BackupTarget(config)
    settings = config.backup
    from_env = bool(os.environ.get(settings.key_env))
    key = target.key(None if from_env else _block_key(settings.key_block))
    return target, key


@step(name="load environment")
def load(environment: str) -> EnvironmentConfig:
    return load_environment(environment, project_root())


@step(name="take backup")
def take_backup(config: EnvironmentConfig, tier: BackupTier | None = None) -> operations.BackupRun:
    target, key = target_and_key(config)
    target.database_up()
    run = operations.backup(target, key, tier)
    manifest = run.manifest
    get_run_logger().info(
        "backup %s (%s, %d bytes, sha256 %s…) stored and copied to the DR vault; pruned %d",
        manifest.id,
        manifest.tier.value,
        manifest.size,
        manifest.sha256[:12],
        len(run.pruned),
    )
    return run


@step(name="evaluate controls")
def evaluate_controls(config: EnvironmentConfig) -> list[controls.ControlResult]:
    target, key = target_and_key(config)
    target.database_up()
    report = operations.verify(target, key)
    logger = get_run_logger()
    for result in report.controls:
        logger.info("%s: %s — %s", result.control, result.verdict, result.evidence)
    return report.controls


@step(name="DR drill")
def run_drill(config: EnvironmentConfig) -> drill.DrillReport:
    target, key = target_and_key(config)
    target.database_up()
    report = operations.dr_drill(target, key)
    get_run_logger().info(
        "drill on %s: RTO %.2f s, RPO %s s, %d/%d expectations passed",
        report.backup_id,
        report.rto_seconds,
        report.rpo_seconds,
        len(report.expectations) - len(report.failed),
        len(report.expectations),
    )
    return report


@step(name="notify")
def send_notification(config: EnvironmentConfig, text: str) -> Notification:
    sent = notify(text, config.backup.notify_webhook_env)
    logger = get_run_logger()
    if sent.delivered:
        logger.info("notification posted to the webhook in %s", config.backup.notify_webhook_env)
    else:
        logger.warning(
            "notification (no webhook in %s): %s", config.backup.notify_webhook_env, text
        )
    return sent
