"""The scheduled operations of staging, as `make backup|backup-verify|dr-test|load-test
ENV=staging` run them, on the AWS sandbox (the session's stack behind the ALB emulator).

moto runs no database engine behind a restored instance, so the drill here proves the
restore path and its RTO; the data checks (great-expectations) are proven by the local
drill's tests. The load test's traffic goes through the emulated listener, which moto
lacks.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from petswipe_cli.main import app
from petswipe_ops.loadtest.campaign import all_records
from petswipe_ops.platform.aws.database import TIER_TAG

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


def run(*args: str):
    return CliRunner().invoke(app, [*args, "--env", "staging"], catch_exceptions=False)


def test_backup_controls_drill_and_load_test_of_staging_run_against_the_aws_sandbox(
    stack, sandbox
) -> None:
    rds = stack.client("rds")
    backup = run("backup", "run", "--tier", "daily")
    assert backup.exit_code == 0, backup.output
    assert "(daily), copied to us-west-2" in backup.output
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=stack.outputs.db_instance)
    made = [s for s in snapshots["DBSnapshots"] if s["DBSnapshotIdentifier"] in backup.output]
    assert made, backup.output
    tags = {t["Key"]: t["Value"] for t in made[0]["TagList"]}
    assert tags.get(TIER_TAG) == "daily"
    copies = stack.client("rds", "us-west-2").describe_db_snapshots()["DBSnapshots"]
    assert copies, "no copy of the snapshot in the DR region"

    verify = run("backup", "verify")
    # Only a daily snapshot exists: the tiers control names the missing ones, exit 1.
    assert verify.exit_code == 1, verify.output
    assert "FAIL" in verify.output and "weekly" in verify.output

    drill = run("backup", "dr-test")
    assert drill.exit_code == 0, drill.output
    assert "DR drill of staging passed: RTO " in drill.output
    before = {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}
    assert not [name for name in before if "-drill-" in name], "the scratch instance was left"

    load = run("load-test", "--scenario", "smoke", "--scale", "0.1")
    assert load.exit_code == 0, load.output
    record = all_records("staging")[-1]
    assert record.runs and record.runs[0].summary and record.runs[0].summary.requests > 0
    assert record.target and record.target.base_url.startswith("http://127.0.0.1:")

    refused = run("load-test", "--version", "9.9.9")
    assert refused.exit_code != 0
    assert "exist only on the local sandbox; on AWS, load test the listener" in refused.output
