"""Versions of the reference service as local processes, tracked in the run folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from petswipe_ops import http_client
from petswipe_ops.child_env import API_KEY_ENV, api_key, child_env
from petswipe_ops.errors import SandboxError
from petswipe_ops.jsonfile import write_text_atomically
from petswipe_ops.liveness import alive
from petswipe_ops.platform.seams import VersionInstance

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0


class ProcessRunner:
    """ServiceRunner that starts `sandbox/petswipe_service.py` once per version."""

    def __init__(
        self,
        *,
        script: Path,
        run_dir: Path,
        ports: tuple[int, int],
        database_url: str,
        health_path: str = "/health",
    ) -> None:
        self.script = script
        self.run_dir = run_dir
        self.ports = ports
        self.database_url = database_url
        self.health_path = health_path
        self.state_file = run_dir / "services.json"

    def _load(self) -> dict[str, dict]:
        if not self.state_file.is_file():
            return {}
        return json.loads(self.state_file.read_text())

    def _save(self, state: dict[str, dict]) -> None:
        write_text_atomically(self.state_file, json.dumps(state, indent=2))

    def _free_port(self, state: dict[str, dict]) -> int:
        used = {entry["port"] for entry in state.values() if alive(entry["pid"])}
        for port in self.ports:
            if port not in used:
                return port
        raise SandboxError(
            f"both service ports {self.ports} are in use; stop the sandbox with "
            "`make sandbox-down` and start it again."
        )

    def start(self, version: str, role: str, env: dict[str, str]) -> VersionInstance:
        state = self._load()
        if role in state and alive(state[role]["pid"]):
            raise SandboxError(
                f"a {role} version ({state[role]['version']}) is already running; "
                "stop it before starting another."
            )
        port = self._free_port(state)
        logs = self.run_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{role}-{version}.log"
        args = [
            sys.executable,
            str(self.script),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--version",
            version,
        ]
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=child_env({**self._service_env(), **env}, prefixes=("PETSWIPE_FAULT_",)),
                start_new_session=True,
            )
        instance = VersionInstance(
            version=version, role=role, endpoint=f"http://127.0.0.1:{port}", handle=str(process.pid)
        )
        state[role] = {"version": version, "port": port, "pid": process.pid, "log": str(log_path)}
        self._save(state)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._forget(role)
                tail = log_path.read_text().strip().splitlines()[-1:] or ["no output"]
                raise SandboxError(
                    f"version {version} exited during start-up (code {process.returncode}): "
                    f"{tail[0]}"
                )
            if self.healthy(instance):
                return instance
            time.sleep(0.1)
        self.stop(instance)
        raise SandboxError(
            f"version {version} did not answer {self.health_path} within {START_TIMEOUT_S:.0f} s; "
            f"see {log_path}."
        )

    def _service_env(self) -> dict[str, str]:
        """What every version gets: its database and, when the service has one, its API key."""
        env = {"PETSWIPE_DATABASE_URL": self.database_url}
        key = api_key()
        if key is not None:
            env[API_KEY_ENV] = key.get_secret_value()
        return env

    def stop(self, instance: VersionInstance) -> None:
        terminate(int(instance.handle))
        self._forget(instance.role, pid=int(instance.handle))

    def _forget(self, role: str, pid: int | None = None) -> None:
        state = self._load()
        if role in state and (pid is None or state[role]["pid"] == pid):
            del state[role]
            self._save(state)

    def healthy(self, instance: VersionInstance) -> bool:
        try:
            reply = http_client.get(instance.endpoint + self.health_path, timeout=1.0)
        except httpx.HTTPError:
            return False
        return reply.status_code == 200

    def running(self) -> list[VersionInstance]:
        return [
            VersionInstance(
                version=entry["version"],
                role=role,
                endpoint=f"http://127.0.0.1:{entry['port']}",
                handle=str(entry["pid"]),
            )
            for role, entry in self._load().items()
            if alive(entry["pid"])
        ]

    def instance(self, role: str) -> VersionInstance | None:
        return next((i for i in self.running() if i.role == role), None)

    def rename(self, instance: VersionInstance, role: str) -> VersionInstance:
        """Record that `instance` now plays `role` (the candidate becoming stable)."""
        state = self._load()
        state[role] = state.pop(instance.role)
        self._save(state)
        return instance.model_copy(update={"role": role})


def terminate(pid: int, *, group: bool = True) -> None:
    """SIGTERM the process (group), then SIGKILL what is left after a grace period."""
    kill = os.killpg if group else os.kill
    for sig, grace in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 2.0)):
        try:
            kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not alive(pid):
                return
            time.sleep(0.05)


def terminate_from_pid_file(pid_file: Path) -> None:
    """Stop the process a pid file names (a killed release's canary k6), then forget it."""
    try:
        pid = int(pid_file.read_text())
    except (FileNotFoundError, ValueError):
        return
    terminate(pid)
    pid_file.unlink(missing_ok=True)
