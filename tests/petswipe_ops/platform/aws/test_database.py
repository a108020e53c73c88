"""RDS snapshots of the applied staging stack: tiers, the DR-region copy, a scratch restore."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

pytestmark = pytest.mark.integration


def test_a_snapshot_is_tagged_with_its_tier_and_copied_to_the_dr_region(stack) -> None:
    database = stack.platform().database
    database.poll_seconds = 0.2
    snapshot = database.snapshot("daily", "before migration 0003")
    copy = database.copy_to_dr(snapshot)
    assert database.copy_to_dr(snapshot).arn == copy.arn, "a second copy is the same one"

    dr = stack.client("rds", "us-west-2")
    copied = dr.describe_db_snapshots(DBSnapshotIdentifier=snapshot.identifier)["DBSnapshots"]
    assert copied and copy.region == "us-west-2" and ":us-west-2:" in copy.arn
    tags = {
        t["Key"]: t["Value"] for t in dr.list_tags_for_resource(ResourceName=copy.arn)["TagList"]
    }
    assert tags["petswipe:tier"] == "daily" and tags["petswipe:source"] == snapshot.arn

    primary = database.snapshots()
    assert [(s.identifier, s.tier) for s in primary][-1] == (snapshot.identifier, "daily")
    assert [s.source for s in database.snapshots("us-west-2")][-1] == snapshot.arn
    for item in (snapshot, copy):
        database.delete_snapshot(item)


def test_a_drill_restores_into_a_scratch_instance_and_removes_it(stack) -> None:
    """moto runs no database engine: this checks the restore path and its timing only."""
    database = stack.platform().database
    database.poll_seconds = 0.2
    snapshot = database.snapshot("monthly", "dr drill")
    rds = stack.client("rds")
    with database.restore_scratch(snapshot, "petswipe-staging-drill") as restored:
        described = rds.describe_db_instances(DBInstanceIdentifier="petswipe-staging-drill")
        assert described["DBInstances"][0]["DBInstanceStatus"] == "available"
        assert restored.seconds >= 0 and restored.snapshot == snapshot.identifier
    names = [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]]
    assert "petswipe-staging-drill" not in names
    database.delete_snapshot(snapshot)


def test_the_database_url_is_the_secret_the_tasks_get(stack) -> None:
    platform = stack.platform()
    url = "sqlite:////tmp/petswipe-staging-test.db"
    platform.secrets.put("DATABASE_URL", SecretStr(url))
    assert platform.database.url == url and platform.database.kind == "sqlite"


def test_backup_controls_fall_back_to_snapshots_where_aws_backup_has_no_recovery_points(
    stack,
) -> None:
    """moto's AWS Backup has vaults but no recovery-point listing: the controls use snapshots."""
    assert stack.platform().database.recovery_points() in (None, [])
