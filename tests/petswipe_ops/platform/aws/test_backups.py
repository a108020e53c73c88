"""Backups of the applied staging stack: tiered snapshots, DR copies, controls and drill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from petswipe_ops.backup.controls import DR_COPY, RESTORE_TIME, RPO, TIERS
from petswipe_ops.config import BackupTier
from petswipe_ops.platform.aws.backups import EMULATED_NOTE, AwsBackups

pytestmark = pytest.mark.integration


def test_tiered_snapshots_are_copied_checked_pruned_and_drilled(stack) -> None:
    """moto runs no database engine: the drill proves the restore path and its RTO only."""
    platform = stack.platform()
    platform.database.poll_seconds = 0.2
    backups = AwsBackups(platform)
    now = datetime.now(UTC)
    runs = [backups.run(tier, now + timedelta(seconds=i)) for i, tier in enumerate(BackupTier)]
    try:
        assert {r.snapshot.tier for r in runs} == {"daily", "weekly", "monthly"}
        assert all(r.dr_copy.region == "us-west-2" for r in runs)

        results = {r.control: r for r in backups.controls(now + timedelta(minutes=1))}
        assert all(r.passed for r in results.values()), results
        assert "copied to us-west-2" in results[DR_COPY].evidence
        assert "RTO" in results[RESTORE_TIME].evidence

        late = {r.control: r for r in backups.controls(now + timedelta(hours=30))}
        assert not late[RPO].passed and "h old (RPO 26" in late[RPO].evidence

        report = backups.drill()
        assert report.passed and report.note == EMULATED_NOTE
        names = [
            i["DBInstanceIdentifier"]
            for i in stack.client("rds").describe_db_instances()["DBInstances"]
        ]
        assert report.scratch_instance not in names

        later = now + timedelta(days=31)
        pruned = backups.prune(later)
        daily = runs[0].snapshot.identifier
        assert sorted(pruned) == [f"us-east-1/{daily}", f"us-west-2/{daily}"]
        assert not {r.control: r for r in backups.controls(later)}[TIERS].passed
    finally:
        for region in ("us-east-1", "us-west-2"):
            for snapshot in platform.database.snapshots(region):
                platform.database.delete_snapshot(snapshot)
