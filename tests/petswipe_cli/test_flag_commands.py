"""`make ff-list`, `make ff-enable STRATEGY=immediate` and `make ff-disable` on the sandbox,
as a user runs them; the service's answers change with the flag."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.platform.local.sandbox import LocalSandbox
from tests.conftest import REPO

pytestmark = pytest.mark.integration


def make(project, *args: str) -> subprocess.CompletedProcess:
    env = {
        **project.env(),
        "PATH": subprocess.os.environ["PATH"],
        "HOME": subprocess.os.environ["HOME"],
        "PREFECT_HOME": str(project.root / ".prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), *args, "ENV=local"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def _row(listing: str) -> str:
    return next(line for line in listing.splitlines() if line.startswith("| recommended-feed |"))


def test_ff_list_enable_disable(make_project):
    project = make_project()
    project.edit("local", lambda d: d.update(feature_flags={"refresh_seconds": 0.5}))
    sandbox = LocalSandbox(load_environment("local", project.root))
    sandbox.up()

    listed = make(project, "ff-list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0] == "| flag | state | rollout % | last change |"
    assert _row(listed.stdout).startswith("| recommended-feed | off | 0 |")

    enabled = make(project, "ff-enable", "FLAG=recommended-feed", "STRATEGY=immediate")
    assert enabled.returncode == 0, enabled.stderr[-2000:]
    assert "recommended-feed is on for 100 % of users in local" in enabled.stdout
    assert _row(make(project, "ff-list").stdout).startswith("| recommended-feed | on | 100 |")
    with httpx.Client(base_url=sandbox.router_url, timeout=5) as client:
        feed = client.get("/api/pets?user_id=42").json()["feed"]
        assert feed == "recommended" or _eventually(client, "recommended")

        disabled = make(project, "ff-disable", "FLAG=recommended-feed")
        assert disabled.returncode == 0, disabled.stderr
        assert _row(make(project, "ff-list").stdout).startswith("| recommended-feed | off | 0 |")
        assert _eventually(client, "default")


def _eventually(client: httpx.Client, feed: str) -> bool:
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if client.get("/api/pets?user_id=42").json()["feed"] == feed:
            return True
        time.sleep(0.3)
    return False
