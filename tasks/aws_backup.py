"""Thin Prefect tasks over the AWS backup operations (RDS snapshots, controls, the drill)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from petswipe_ops.backup.controls import ControlResult
from petswipe_ops.config import BackupTier, load_environment
from petswipe_ops.paths import project_root
from petswipe_ops.platform.aws.backups import AwsBackupRun, AwsBackups, AwsDrillReport
from petswipe_ops.platform.aws.platform import AwsPlatform

step = task(cache_policy=NO_CACHE, retries=0)


def _backups(environment: str) -> AwsBackups:
    return AwsBackups(AwsPlatform(load_environment(environment, project_root())))


@step(name="snapshot and copy to the DR region")
def take_snapshot(environment: str, tier: BackupTier | None = None) -> AwsBackupRun:
    return _backups(environment).run(tier)


@step(name="evaluate controls")
def evaluate_controls(environment: str) -> list[ControlResult]:
    return _backups(environment).controls()


@step(name="restore into a scratch instance")
def run_drill(environment: str) -> AwsDrillReport:
    return _backups(environment).drill()
