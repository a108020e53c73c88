"""`make ff-list`, `ff-enable STRATEGY=immediate` and `ff-disable` on the sandbox; the service's
answers change with the flag. The make target is run once as a user would; the other
commands run in process against the test session's Prefect server."""

from __future__ import annotations

import os
import subprocess
import time

import httpx
import pytest
from typer.testing import CliRunner

from petswipe_cli.main import app
from petswipe_ops import http_client
from petswipe_ops.config import load_environment
from petswipe_ops.platform.local.sandbox import LocalSandbox
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


def _row(listing: str) -> str:
    return next(line for line in listing.splitlines() if line.startswith("| recommended-feed |"))


def _ops(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--env", "local"])
    assert result.exit_code == 0, result.output[-2000:]
    return result.stdout


def _eventually(client: httpx.Client, feed: str) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if client.get("/api/pets?user_id=42").json()["feed"] == feed:
            return True
        time.sleep(0.3)
    return False


def test_ff_list_enable_disable(make_project):
    project = make_project()
    project.edit("local", lambda d: d.update(feature_flags={"refresh_seconds": 0.5}))
    sandbox = LocalSandbox(load_environment("local", project.root))
    sandbox.up()

    listed = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), "ff-list", "ENV=local"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **project.env()},
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    table = listed.stdout[listed.stdout.index("| flag |") :]  # after any `make setup` output
    assert table.splitlines()[0] == "| flag | state | rollout % | last change |"
    assert _row(table).startswith("| recommended-feed | off | 0 |")

    enabled = _ops("flags", "enable", "--flag", "recommended-feed", "--strategy", "immediate")
    assert "recommended-feed is on for 100 % of users in local" in enabled
    assert _row(_ops("flags", "list")).startswith("| recommended-feed | on | 100 |")
    with http_client.client(base_url=sandbox.router_url, timeout=5) as client:
        assert _eventually(client, "recommended")

        disabled = _ops("flags", "disable", "--flag", "recommended-feed")
        assert "recommended-feed is off in local (flag version 2)" in disabled
        assert _row(_ops("flags", "list")).startswith("| recommended-feed | off | 0 |")
        assert _eventually(client, "default")
