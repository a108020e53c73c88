"""`aws-sandbox up/down/status`: moto server, the staging root applied to it, the emulator.

up() is idempotent: a running sandbox is reused as it is (a second apply would reset the
weights a release may be moving); a fresh moto server gets a fresh terraform state and a
full apply. down() stops the emulator (and its task processes), Prometheus and moto, and
forgets the state, leaving no process behind.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from pydantic import BaseModel, SecretStr

from petswipe_ops import http_client, migrations
from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import SandboxError
from petswipe_ops.liveness import alive
from petswipe_ops.paths import migrations_dir
from petswipe_ops.platform.aws.outputs import OUTPUTS_FILE, StackOutputs, terraform_dir
from petswipe_ops.platform.aws.platform import AwsPlatform
from petswipe_ops.platform.aws.sandbox.moto import start_moto, stop_process
from petswipe_ops.platform.aws.sandbox.stack import apply_stack
from petswipe_ops.platform.aws.sandbox.state import (
    SANDBOX_CREDENTIALS,
    SandboxState,
    read_state,
    state_dir,
    state_file,
    write_state,
)
from petswipe_ops.platform.seams import Weights
from petswipe_ops.ports import free_port
from petswipe_ops.proc import find_binary

READY_TIMEOUT_S = 60.0


class ServiceStatus(BaseModel):
    name: str
    desired: int
    task_definition: str
    image: str


class AwsSandboxStatus(BaseModel):
    environment: str
    running: bool
    endpoint_url: str | None = None
    moto_url: str | None = None
    prometheus_url: str | None = None
    weights: Weights | None = None
    services: list[ServiceStatus] = []


class AwsSandbox:
    def __init__(self, config: EnvironmentConfig) -> None:
        if config.aws is None:
            raise SandboxError(
                f"environment '{config.environment}' is not an AWS environment; the AWS "
                "sandbox runs staging (or another environment with platform: aws)."
            )
        self.config = config
        self.dir = state_dir(config.environment)

    # -- up -------------------------------------------------------------------------------

    def up(self) -> AwsSandboxStatus:
        (self.dir / "logs").mkdir(parents=True, exist_ok=True)
        state = read_state(self.config.environment)
        if state is None:
            state = self._fresh_moto()
        self._database(state)
        if not alive(state.emulator_pid):
            state = self._start_prometheus(state)
            state = self._start_emulator(state)
        self._wait_ready(state)
        return self.status()

    def _fresh_moto(self) -> SandboxState:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._stop_leftovers()
        shutil.rmtree(terraform_dir(self.config.environment), ignore_errors=True)
        port = free_port()
        pid = start_moto(port, self.dir / "logs" / "moto.log")
        state = SandboxState(
            environment=self.config.environment, moto_url=f"http://127.0.0.1:{port}", moto_pid=pid
        )
        write_state(state)
        try:
            apply_stack(self.config, state.moto_url)
        except BaseException:
            self.down()
            raise
        return state

    def _database(self, state: SandboxState) -> None:
        """A migrated SQLite database for the emulated tasks, its URL in the DATABASE_URL secret."""
        url = f"sqlite:///{self.dir / 'petswipe.db'}"
        if not (self.dir / "database-url").is_file():
            migrations.upgrade(url, migrations_dir())
            (self.dir / "database-url").write_text(url)
        platform = AwsPlatform(
            self.config, endpoint_url=state.moto_url, credentials=SANDBOX_CREDENTIALS
        )
        if not _has_value(platform, "DATABASE_URL"):
            platform.secrets.put("DATABASE_URL", SecretStr(url))

    def _start_prometheus(self, state: SandboxState) -> SandboxState:
        binary = find_binary(
            "prometheus",
            env_var="PETSWIPE_PROMETHEUS_BIN",
            install_hint="install the Debian package prometheus (make setup does)",
            extra=[Path("/usr/bin/prometheus")],
        )
        stop_process(state.prometheus_pid)
        targets = self.dir / "prometheus-targets.json"
        if not targets.is_file():
            targets.write_text("[]")
        config = self.dir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 15s\n"
            "scrape_configs:\n  - job_name: petswipe-tasks\n    file_sd_configs:\n"
            f"      - files: ['{targets}']\n        refresh_interval: 1s\n"
        )
        port = free_port()
        with (self.dir / "logs" / "prometheus.log").open("ab") as log:
            process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self.dir / 'prometheus-data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--storage.tsdb.retention.time=2d",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        state = state.model_copy(
            update={"prometheus_pid": process.pid, "prometheus_url": f"http://127.0.0.1:{port}"}
        )
        write_state(state)
        return state

    def _start_emulator(self, state: SandboxState) -> SandboxState:
        port = free_port()
        outputs = terraform_dir(self.config.environment) / OUTPUTS_FILE
        with (self.dir / "logs" / "emulator.log").open("ab") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "petswipe_ops.platform.aws.sandbox.emulator",
                    "--moto-url",
                    state.moto_url,
                    "--outputs",
                    str(outputs),
                    "--state-dir",
                    str(self.dir),
                    "--port",
                    str(port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        state = state.model_copy(
            update={"emulator_pid": process.pid, "listener_url": f"http://127.0.0.1:{port}"}
        )
        write_state(state)
        return state

    def _wait_ready(self, state: SandboxState) -> None:
        """Until the listener serves the stable version and Prometheus answers."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        checks = [f"{state.listener_url}/health", f"{state.prometheus_url}/-/ready"]
        while checks:
            try:
                if http_client.get(checks[0], timeout=2.0).status_code == 200:
                    checks.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            if not alive(state.emulator_pid):
                raise SandboxError(
                    "the ALB emulator exited during start-up; see "
                    f"{self.dir / 'logs' / 'emulator.log'}."
                )
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"{checks[0]} did not answer within {READY_TIMEOUT_S:.0f} s; see the logs "
                    f"in {self.dir / 'logs'} and run make aws-sandbox-down, then up again."
                )
            time.sleep(0.3)

    # -- down -----------------------------------------------------------------------------

    def down(self) -> None:
        path = state_file(self.config.environment)
        if path.is_file():
            state = SandboxState.model_validate_json(path.read_text())
            stop_process(state.emulator_pid)
            self._stop_leftovers()
            stop_process(state.prometheus_pid)
            stop_process(state.moto_pid)
            path.unlink()
        self._stop_leftovers()
        shutil.rmtree(terraform_dir(self.config.environment), ignore_errors=True)

    def _stop_leftovers(self) -> None:
        """Task processes an emulator that died uncleanly may have left."""
        tasks = self.dir / "tasks.json"
        if tasks.is_file():
            for pid in json.loads(tasks.read_text()):
                stop_process(pid)
            tasks.unlink()

    # -- status ---------------------------------------------------------------------------

    def status(self) -> AwsSandboxStatus:
        state = read_state(self.config.environment)
        if state is None:
            return AwsSandboxStatus(environment=self.config.environment, running=False)
        platform = AwsPlatform(
            self.config, endpoint_url=state.moto_url, credentials=SANDBOX_CREDENTIALS
        )
        services = []
        for role in ("stable", "candidate"):
            described = platform.services.describe(role)
            definition = platform.services.task_definition(described["taskDefinition"])
            services.append(
                ServiceStatus(
                    name=described["serviceName"],
                    desired=described["desiredCount"],
                    task_definition=described["taskDefinition"].rsplit("/", 1)[-1],
                    image=definition["containerDefinitions"][0]["image"],
                )
            )
        return AwsSandboxStatus(
            environment=self.config.environment,
            running=alive(state.emulator_pid),
            endpoint_url=state.listener_url,
            moto_url=state.moto_url,
            prometheus_url=state.prometheus_url,
            weights=platform.router.get_weights(),
            services=services,
        )

    def outputs(self) -> StackOutputs:
        path = terraform_dir(self.config.environment) / OUTPUTS_FILE
        return StackOutputs.model_validate_json(path.read_text())


def _has_value(platform: AwsPlatform, key: str) -> bool:
    client = platform.clients("secretsmanager")
    versions = client.list_secret_version_ids(SecretId=platform.secrets.name(key))["Versions"]
    return any("AWSCURRENT" in v.get("VersionStages", []) for v in versions)
