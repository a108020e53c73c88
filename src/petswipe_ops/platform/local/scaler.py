"""Local capacity: extra replicas of the stable version behind HAProxy, as the plan says.

Each replica is another process of sandbox/petswipe_service.py serving the stable version,
added to HAProxy's backend as a dynamic server (`add server`, HAProxy 2.6+) with the
stable server's weight, so the HAProxy config and the release's two servers are untouched.
The replica set is recorded in the run folder before each process starts and after it is
served, so an interrupted scale is finished (or cleaned up) by the next one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from pydantic import BaseModel

from petswipe_ops import http_client
from petswipe_ops.errors import SandboxError
from petswipe_ops.jsonfile import write_text_atomically
from petswipe_ops.platform.local.haproxy import BACKEND, HaproxyRuntime
from petswipe_ops.platform.local.services import alive, terminate
from petswipe_ops.ports import free_port

PREFIX = "replica-"
START_TIMEOUT_S = 20.0


class Replica(BaseModel):
    name: str
    port: int
    version: str
    pid: int | None = None
    serving: bool = False


class LocalScaler:
    def __init__(
        self,
        *,
        run_dir: Path,
        script: Path,
        socket_path: Path,
        database_url: str,
        stable_version: str,
        health_path: str = "/health",
    ) -> None:
        self.run_dir = run_dir
        self.script = script
        self.runtime = HaproxyRuntime(socket_path)
        self.database_url = database_url
        self.stable_version = stable_version
        self.health_path = health_path
        self.state_file = run_dir / "scaler.json"

    def processes(self) -> int:
        """Stable processes serving now: the stable server plus its live replicas."""
        return 1 + sum(1 for r in self._reconcile() if r.serving)

    def observed_rps(self) -> float | None:
        """The router's request rate (HAProxy's frontend req_rate), None when unreadable."""
        try:
            lines = self.runtime.command("show stat -1 1 -1").splitlines()
        except SandboxError:
            return None
        header = lines[0].lstrip("# ").split(",") if lines else []
        for line in lines[1:]:
            fields = line.split(",")
            if len(fields) >= len(header) and "req_rate" in header and fields[1] == "FRONTEND":
                value = fields[header.index("req_rate")]
                return float(value) if value else None
        return None

    def scale_to(self, processes: int) -> dict[str, int]:
        """Run `processes` stable processes in all (at least the stable server itself)."""
        replicas = self._reconcile()
        wanted = max(processes, 1) - 1
        added = removed = 0
        while len(replicas) < wanted:
            replicas.append(self._add(replicas))
            added += 1
        while len(replicas) > wanted:
            self._remove(replicas.pop())
            self._save(replicas)
            removed += 1
        return {"processes": 1 + len(replicas), "added": added, "removed": removed}

    def _add(self, replicas: list[Replica]) -> Replica:
        used = {r.name for r in replicas}
        number = next(i for i in range(1, 1000) if f"{PREFIX}{i}" not in used)
        replica = Replica(name=f"{PREFIX}{number}", port=free_port(), version=self.stable_version)
        self._save([*replicas, replica])  # intent first: a crash leaves a record to clean up
        logs = self.run_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, str(self.script), "--host", "127.0.0.1"]
        args += ["--port", str(replica.port), "--version", replica.version]
        with (logs / f"{replica.name}.log").open("ab") as log:
            process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PETSWIPE_DATABASE_URL": self.database_url},
                start_new_session=True,
            )
        replica.pid = process.pid
        self._save([*replicas, replica])
        self._wait_healthy(replica, process)
        weight = self.runtime.weight("stable")
        self.runtime.command(
            f"add server {BACKEND}/{replica.name} 127.0.0.1:{replica.port} weight {weight} "
            "check inter 2s fall 2 rise 1"
        )
        self.runtime.command(f"enable health {BACKEND}/{replica.name}")
        self.runtime.command(f"enable server {BACKEND}/{replica.name}")
        replica.serving = True
        self._save([*replicas, replica])
        return replica

    def _remove(self, replica: Replica) -> None:
        """Take the replica out of HAProxy first, then stop its process."""
        if replica.name in self._servers():
            self.runtime.command(f"set server {BACKEND}/{replica.name} state maint")
            self.runtime.command(f"del server {BACKEND}/{replica.name}")
        if replica.pid and alive(replica.pid):
            terminate(replica.pid)

    def _reconcile(self) -> list[Replica]:
        """Drop replicas whose process died or never got into HAProxy; keep the rest."""
        kept = []
        servers = self._servers()
        for replica in self._load():
            if replica.pid and alive(replica.pid) and replica.serving and replica.name in servers:
                kept.append(replica)
            else:
                self._remove(replica)
        self._save(kept)
        return kept

    def _servers(self) -> set[str]:
        lines = self.runtime.command(f"show servers state {BACKEND}").splitlines()
        return {line.split()[3] for line in lines if line and line[0].isdigit() and " " in line}

    def _wait_healthy(self, replica: Replica, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        url = f"http://127.0.0.1:{replica.port}{self.health_path}"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SandboxError(
                    f"replica {replica.name} exited during start-up (code {process.returncode}); "
                    f"see {self.run_dir / 'logs' / (replica.name + '.log')}."
                )
            try:
                if http_client.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SandboxError(
            f"replica {replica.name} did not answer {self.health_path} within "
            f"{START_TIMEOUT_S:.0f} s; see its log in {self.run_dir / 'logs'}."
        )

    def _load(self) -> list[Replica]:
        if not self.state_file.is_file():
            return []
        return [Replica.model_validate(r) for r in json.loads(self.state_file.read_text())]

    def _save(self, replicas: list[Replica]) -> None:
        write_text_atomically(self.state_file, json.dumps([r.model_dump() for r in replicas]))


def stop_replicas(run_dir: Path) -> None:
    """Stop every replica recorded in `run_dir` (the sandbox's `down`, with HAProxy going too)."""
    state = run_dir / "scaler.json"
    if not state.is_file():
        return
    for raw in json.loads(state.read_text()):
        pid = raw.get("pid")
        if pid and alive(pid):
            terminate(pid)
    state.unlink()
