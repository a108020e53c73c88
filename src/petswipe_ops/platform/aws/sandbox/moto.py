"""moto server (from the lock) as a local process on 127.0.0.1: the AWS APIs of the sandbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from petswipe_ops import http_client
from petswipe_ops.errors import SandboxError
from petswipe_ops.platform.local.services import terminate

START_TIMEOUT_S = 60.0


def moto_command() -> list[str]:
    beside = Path(sys.executable).with_name("moto_server")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("moto_server")
    return [found] if found else [sys.executable, "-m", "moto.server"]


def start_moto(port: int, log_path: Path, env: dict[str, str] | None = None) -> int:
    """Start moto server on 127.0.0.1:`port` and wait until it answers; its pid."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*moto_command(), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "MOTO_PORT": str(port), **(env or {})},
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise SandboxError(
                f"moto server exited with code {process.returncode} on start; see {log_path}."
            )
        try:
            http_client.get(f"{url}/moto-api/", timeout=1.0)
            return process.pid
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                stop_process(process.pid)
                raise SandboxError(
                    f"moto server did not answer on {url} within {START_TIMEOUT_S:.0f} s; "
                    f"see {log_path}."
                ) from None
            time.sleep(0.2)


def stop_process(pid: int | None) -> None:
    """SIGTERM the process group `pid` leads, then SIGKILL what is left after a grace period."""
    if pid:
        terminate(pid)
