"""A Prefect server, its process workers and the project's deployments, as background
processes with pid and log files in one folder, so `make ui-down` (or a test) can stop
exactly what `make ui` started.

Everything goes through the `prefect` command line a person would type; this module
imports no Prefect code.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from petswipe_ops import http_client
from petswipe_ops.child_env import child_env
from petswipe_ops.errors import ExternalCommandError, OpsError
from petswipe_ops.platform.local.services import alive, terminate
from petswipe_ops.proc import find_binary, run

SERVER_START_TIMEOUT_S = 120.0
DEPLOY_TIMEOUT_S = 300.0
CLI_TIMEOUT_S = 60.0
WORKER_PREFIXES = ("PREFECT_", "PETSWIPE_", "AWS_")
"""A worker's flow runs are our own flows: they read the project's settings and secret
sources (PETSWIPE_*) and cloud credentials themselves. The server needs only PREFECT_*."""


class PrefectStackError(OpsError):
    """The Prefect server, a worker or the deployments could not be started."""


API_CHECK_TIMEOUT_S = 5.0


def check_prefect_api(url: str | None = None, timeout: float = API_CHECK_TIMEOUT_S) -> None:
    """Refuse to start a flow against a Prefect API that is not there.

    `url` defaults to PREFECT_API_URL; without one, the command starts a temporary server
    (`petswipe_ops.temporary_server`) and there is nothing to check. Otherwise the client
    would retry for minutes and end in a traceback; this asks the API's `/health` once and
    turns a failure into one sentence.
    """
    url = (os.environ.get("PREFECT_API_URL", "") if url is None else url).strip()
    if not url:
        return
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise PrefectStackError(
            f"PREFECT_API_URL {url!r} is not an http(s) URL such as http://127.0.0.1:4200/api; "
            "fix it, or unset it to run with a temporary Prefect server."
        )
    shown = parsed.copy_with(username=None, password=None, query=None)
    headers = {}
    if os.environ.get("PREFECT_API_KEY"):
        headers["Authorization"] = f"Bearer {os.environ['PREFECT_API_KEY']}"
    try:
        response = http_client.get(
            f"{str(parsed).rstrip('/')}/health", headers=headers, timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise PrefectStackError(
            f"the Prefect API at {shown} (PREFECT_API_URL) does not answer "
            f"({type(exc).__name__}); start it with `make ui`, or unset PREFECT_API_URL to run "
            "with a temporary Prefect server."
        ) from None
    if response.status_code != 200:
        raise PrefectStackError(
            f"the Prefect API at {shown} (PREFECT_API_URL) answered HTTP {response.status_code} "
            "to its health check; check that the URL ends in /api and the server is healthy."
        )


def prefect_command() -> list[str]:
    """The `prefect` CLI of this Python environment, before any other on PATH."""
    beside = Path(sys.executable).with_name("prefect")
    if beside.is_file():
        return [str(beside)]
    return [find_binary("prefect", env_var="PETSWIPE_PREFECT_BIN", install_hint="run `make setup`")]


class PrefectStack:
    """The processes behind one Prefect UI: pid and log files live in `folder`."""

    def __init__(self, folder: Path, port: int, home: Path | None = None) -> None:
        self.folder = folder
        self.port = port
        self.home = home

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"

    def env(self) -> dict[str, str]:
        """What a `prefect` command needs to talk to this server."""
        env = {"PREFECT_API_URL": self.api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        if self.home is not None:
            env["PREFECT_HOME"] = str(self.home)
        return env

    def pids(self) -> dict[str, int]:
        """Every process started here that is still alive, by name; a pid file whose pid
        now belongs to another program (after a reboot) is ignored, never signalled."""
        found = {}
        for pid_file in sorted(self.folder.glob("*.pid")):
            pid = int(pid_file.read_text().strip() or 0)
            if pid and alive(pid) and _runs_prefect(pid):
                found[pid_file.stem] = pid
        return found

    def healthy(self) -> bool:
        try:
            return http_client.get(f"{self.api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def start_server(self, timeout: float = SERVER_START_TIMEOUT_S) -> None:
        """`prefect server start` on 127.0.0.1 (SQLite in PREFECT_HOME), then wait for health."""
        running = self.pids().get("server")
        if running and self.healthy():
            return
        if running:
            raise PrefectStackError(
                f"a Prefect server started here is already running (pid {running}) but not "
                f"on port {self.port}; stop it with `make ui-down` first."
            )
        if self.healthy():
            raise PrefectStackError(
                f"something else already answers on {self.ui_url}; stop it or choose "
                "another port (make ui PORT=4201)."
            )
        args = ["server", "start", "--host", "127.0.0.1", "--port", str(self.port)]
        pid = self._spawn("server", [*prefect_command(), *args])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return
            if not alive(pid):  # by pid: until it execs, its command line is not prefect's
                break
            time.sleep(0.5)
        self.stop()
        raise PrefectStackError(
            f"the Prefect server did not become healthy on {self.ui_url} within {timeout:.0f} s; "
            f"see {self.folder / 'server.log'}."
        )

    def ensure_pool(self, pool: str, pool_type: str = "process") -> None:
        """Create the work pool unless it exists (`prefect work-pool create` is not idempotent)."""
        found = self.prefect("work-pool", "inspect", pool, check=False)
        if found.returncode != 0:
            self.prefect("work-pool", "create", pool, "--type", pool_type)

    def start_worker(
        self, name: str, pool: str, env: dict[str, str], *, limit: int | None = None
    ) -> int:
        """A process worker polling `pool`; its flow runs inherit `env` (PETSWIPE_ROOT ...)."""
        key = f"worker-{name}"
        running = self.pids().get(key)
        if running:
            return running
        args = [*prefect_command(), "worker", "start", "--pool", pool, "--name", name]
        args += ["--type", "process"]
        if limit is not None:
            args += ["--limit", str(limit)]
        return self._spawn(key, args, env, prefixes=WORKER_PREFIXES)

    def deploy_all(self, root: Path, timeout: float = DEPLOY_TIMEOUT_S) -> str:
        """`prefect --no-prompt deploy --all` from the project root; returns its output."""
        done = self.prefect("--no-prompt", "deploy", "--all", cwd=root, timeout=timeout)
        return done.stdout

    def prefect(
        self,
        *args: str,
        cwd: Path | None = None,
        timeout: float = CLI_TIMEOUT_S,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        return run(
            [*prefect_command(), *args],
            timeout=timeout,
            cwd=cwd,
            env={**self.env(), "PREFECT_CLI_WRAP_LINES": "false", "COLUMNS": "200"},
            check=check,
        )

    def stop(self) -> list[str]:
        """Stop every process started here (workers first), remove the pid files."""
        running = self.pids()
        stopped = sorted(running, key=lambda name: name == "server")
        for name in stopped:
            terminate(running[name])
        for pid_file in self.folder.glob("*.pid"):
            pid_file.unlink()
        return stopped

    def _spawn(
        self,
        name: str,
        args: list[str],
        env: dict[str, str] | None = None,
        prefixes: tuple[str, ...] = ("PREFECT_",),
    ) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / f"{name}.log").open("ab") as log:
            try:
                process = subprocess.Popen(
                    args,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=child_env({**(env or {}), **self.env()}, prefixes=prefixes),
                    start_new_session=True,
                )
            except OSError as exc:
                raise ExternalCommandError(f"could not start {name}: {exc.strerror}.") from exc
        (self.folder / f"{name}.pid").write_text(str(process.pid))
        return process.pid


def _runs_prefect(pid: int) -> bool:
    try:
        return b"prefect" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return not Path("/proc").is_dir()
