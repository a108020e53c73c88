"""The Prefect API of one command's in-process flow runs when no PREFECT_API_URL is set.

Prefect would start a temporary server of its own and stop it at exit, so a command
killed outright (`kill -9`, a lost terminal, a CI runner's hard stop) left that server
running for good, still working its database. This starts the same server (Prefect's
uvicorn factory with the settings Prefect gives its own, SQLite in PREFECT_HOME) through
`die_with_parent`, so the kernel sends it SIGTERM when the command dies, however it dies.

It runs in its own session: a Ctrl-C in the terminal reaches the command, which rolls
back and reports through this server, and not the server itself. It is started when the
first flow needs it, so a bad-input sentence never waits for it. No Prefect import here.
"""

from __future__ import annotations

import atexit
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from petswipe_ops import die_with_parent, http_client
from petswipe_ops.child_env import child_env
from petswipe_ops.errors import OpsError
from petswipe_ops.ports import free_port

SERVER_ENV = {
    # What Prefect sets for its own temporary server: the API only, no UI.
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}
STOP_TIMEOUT_S = 10.0


class TemporaryServerError(OpsError):
    """The temporary Prefect server did not come up."""


class TemporaryServer:
    """One server on a free port of 127.0.0.1; `stop` runs at exit, the kernel after a kill."""

    def __init__(self, startup_timeout: float) -> None:
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.port = free_port()
        self.log = Path(tempfile.gettempdir()) / f"petswipe-prefect-{self.port}.log"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> str:
        """Start the server, wait until its API answers, and return the API's URL."""
        uvicorn = ["-m", "uvicorn", "--factory", "prefect.server.api.server:create_app"]
        uvicorn += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                die_with_parent.command(sys.executable, *uvicorn, "--lifespan", "on"),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_env(SERVER_ENV, prefixes=("PREFECT_",)),
                start_new_session=True,
            )
        atexit.register(self.stop)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if self._healthy():
                return self.api_url
            time.sleep(0.2)
        self.stop(keep_log=True)
        raise TemporaryServerError(
            f"the temporary Prefect server did not answer within {self.startup_timeout:.0f} s "
            f"(see {self.log}); set PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS higher, "
            "or start one with `make ui` and set PREFECT_API_URL."
        )

    def stop(self, keep_log: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_S)
        if not keep_log:
            self.log.unlink(missing_ok=True)

    def _healthy(self) -> bool:
        try:
            return http_client.get(f"{self.api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
