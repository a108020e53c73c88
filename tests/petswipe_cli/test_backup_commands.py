"""`make dr-test` and `make backup-verify` as a user runs them: real processes, the sandbox's
own PostgreSQL, a temporary Prefect server; the exit code says whether it passed."""

from __future__ import annotations

import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.platform.local.sandbox import LocalSandbox
from tests.petswipe_cli.test_main import cli

pytestmark = pytest.mark.integration
SLOW_MACHINE = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}


def test_dr_test_on_postgres_reports_rto_and_rpo_then_verify_names_the_missing_tiers(
    make_project,
):
    project = make_project()

    drill = cli(project, "backup", "dr-test", "--env", "local", timeout=600, **SLOW_MACHINE)

    assert drill.returncode == 0, drill.stderr[-2000:]
    assert "the vault of local is empty: taking a first backup" in drill.stdout
    assert "# DR drill local: PASSED" in drill.stdout
    assert "postgresql+psycopg://postgres:***@127.0.0.1" in drill.stdout
    assert "| RTO (restore + verify) |" in drill.stdout
    assert "| RPO (age of the newest row) |" in drill.stdout
    assert "| swipes.user_id references an existing users.id | PASS | 0 |" in drill.stdout
    assert "DR drill of local passed: RTO " in drill.stdout

    verify = cli(project, "backup", "verify", "--env", "local", timeout=600, **SLOW_MACHINE)

    assert verify.returncode == 1
    assert "| every tier present with its retention | FAIL | daily: none; weekly: none |" in (
        verify.stdout
    )
    assert "| checksums intact | PASS |" in verify.stdout
    assert "backup verification of local failed: every tier present" in verify.stderr
    LocalSandbox(load_environment("local", project.root)).down()
