"""The temporary Prefect server a command starts without PREFECT_API_URL: it serves the
command's flow runs and stops with the command, even when the command is killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from petswipe_ops.platform.local.services import alive

pytestmark = pytest.mark.integration

COMMAND = """
import os, sys, time
os.environ.pop("PREFECT_API_URL", None)
from petswipe_cli.common import start_temporary_server
start_temporary_server()
print(os.environ["PREFECT_API_URL"], flush=True)
time.sleep(600)
"""


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def test_a_command_killed_outright_takes_its_temporary_server_with_it(tmp_path):
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "home")}
    env.pop("PREFECT_API_URL", None)
    command = subprocess.Popen(
        [sys.executable, "-c", COMMAND], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        url = command.stdout.readline().strip()
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        [server] = children(command.pid)

        command.send_signal(signal.SIGKILL)
        command.wait(timeout=10)

        deadline = time.monotonic() + 20
        while alive(server) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(server), "the temporary server outlived the command that started it"
    finally:
        command.kill()
        command.wait(timeout=10)
