"""Releases on the real sandbox interrupted at the points a kill hurts most, as CI runs them:
SIGKILL just before and just after finalize's router switch,
SIGINT at 50 %, SIGTERM at 10 % and a Prefect cancel at 50 %. Each must converge (HAProxy
at stable 100 / candidate 0 on a live stable, no candidate process, the record finished)
within 90 s after the interruption, with no failed user request across the finalize kills;
the environment then takes the next release. `bench/chaos.py` runs every point with every signal."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from petswipe_ops.chaos import ChaosRunner, default_cases, interrupt_only, render_table
from petswipe_ops.prefect_stack import PrefectStack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory):
    """One real Prefect server for the module: every CLI run talks to it, as a user's shell
    with PREFECT_API_URL set would, and a cancel goes through its API."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = tmp_path_factory.mktemp("prefect")
    stack = PrefectStack(folder, port, home=folder / "home")
    stack.start_server()
    yield stack
    stack.stop()


def test_interrupted_releases_converge_and_the_next_release_goes_through(make_project, prefect_api):
    project = make_project()
    project.edit("local", interrupt_only)
    env = {**project.env(), **prefect_api.env()}
    env = {**os.environ, **env}
    up = [sys.executable, "-m", "petswipe_cli.main", "sandbox", "up", "--env", "local"]
    subprocess.run(up, env=env, check=True, timeout=180, capture_output=True)
    runner = ChaosRunner(env, project.root)

    results = [runner.run(point, how) for point, how in default_cases(bounded=True)]
    table = render_table(results)
    print(table)

    assert all(r.converged for r in results), table
    finalize = [r for r in results if "router switch" in r.point]
    assert all(r.failed_requests == 0 and r.probe_requests > 100 for r in finalize), table
    assert runner.next_release() == "promoted"
