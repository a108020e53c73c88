"""A command's flows without PREFECT_API_URL: they run against a temporary Prefect server
that the command started, which stops with the command even when it is killed outright,
and which a terminal's Ctrl-C (sent to the command's whole process group) leaves serving
while the command winds down."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from petswipe_ops import die_with_parent
from petswipe_ops.liveness import alive

pytestmark = pytest.mark.integration

READ_TIMEOUT_S = 90.0

COMMAND = """
import signal, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal starts it
from prefect import flow
from petswipe_cli.common import run_flow
from petswipe_ops import http_client

@flow
def waits() -> None:
    print("running", flush=True)
    time.sleep(120)

try:
    run_flow(waits)
except KeyboardInterrupt:
    from petswipe_cli.common import _temporary_api_url
    health = http_client.get(_temporary_api_url() + "/health", timeout=10).status_code
    print(f"interrupted; the server answers {health}", flush=True)
"""


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _start(tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    return subprocess.Popen(
        [sys.executable, "-c", COMMAND],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0,
    )


def _read_until(command: subprocess.Popen[str], wanted: str) -> list[str]:
    """The command's output lines up to and including `wanted` (its log lines among them);
    a command still silent after READ_TIMEOUT_S is killed, which ends the wait."""
    lines = []
    watchdog = threading.Timer(READ_TIMEOUT_S, command.kill)
    watchdog.start()
    try:
        for line in command.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith(wanted):
                return lines
    finally:
        watchdog.cancel()
    raise AssertionError(f"the command ended without printing {wanted!r}: {lines}")


def _wait_for_flow(command: subprocess.Popen[str]) -> int:
    """The flow is running; returns the pid of the one server the command started."""
    output = _read_until(command, "running")
    assert not [line for line in output if "Starting temporary server" in line]
    [server] = _children(command.pid)  # one server: Prefect did not start its own as well
    assert b"uvicorn" in Path(f"/proc/{server}/cmdline").read_bytes()
    return server


def _stop(command: subprocess.Popen[str]) -> None:
    if command.poll() is None:
        command.kill()
    command.wait(timeout=30)
    command.stdout.close()


def test_a_command_killed_outright_takes_its_temporary_server_with_it(tmp_path):
    command = _start(tmp_path)
    try:
        server = _wait_for_flow(command)
        command.send_signal(signal.SIGKILL)
        command.wait(timeout=10)
        deadline = time.monotonic() + 20
        while alive(server) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(server), "the temporary server outlived the command that started it"
    finally:
        _stop(command)


def test_ctrl_c_reaches_the_command_and_not_its_server(tmp_path):
    command = _start(tmp_path)
    try:
        server = _wait_for_flow(command)
        os.killpg(command.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
        assert _read_until(command, "interrupted")[-1] == "interrupted; the server answers 200"
        rest = command.stdout.read()
        assert command.wait(timeout=60) == 0
        assert "Starting temporary server" not in rest
        assert not alive(server), "the command left its temporary server running at exit"
    finally:
        _stop(command)


def test_die_with_parent_runs_the_program_only_for_a_live_parent():
    ran = subprocess.run(
        die_with_parent.command("/bin/echo", "ran"), capture_output=True, text=True, timeout=30
    )
    assert (ran.returncode, ran.stdout) == (0, "ran\n")
    orphaned = [sys.executable, "-m", "petswipe_ops.die_with_parent", "1", "/bin/echo", "ran"]
    late = subprocess.run(orphaned, capture_output=True, text=True, timeout=30)
    assert (late.returncode, late.stdout) == (1, "")
