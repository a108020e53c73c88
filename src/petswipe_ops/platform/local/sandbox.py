"""The local sandbox: the reference service behind HAProxy, all state in one run folder.

`up()` is idempotent and `down()` leaves no process behind, so a user can call
either at any time; releases call `up()` themselves.
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel

from petswipe_ops import migrations
from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import ConfigError, SandboxError
from petswipe_ops.k6 import BackgroundLoad, k6_binary
from petswipe_ops.paths import migrations_dir, project_root, run_dir
from petswipe_ops.platform.local.database import LocalDatabase
from petswipe_ops.platform.local.haproxy import (
    INSTALL_HINT,
    HaproxyRouter,
    HaproxyRuntime,
    HaproxyServerErrors,
    render_config,
)
from petswipe_ops.platform.local.postgres import SandboxPostgres
from petswipe_ops.platform.local.prometheus import PrometheusScraper
from petswipe_ops.platform.local.prometheus_server import PrometheusServer
from petswipe_ops.platform.local.scaler import stop_replicas
from petswipe_ops.platform.local.service_env import StoreAwareRunner
from petswipe_ops.platform.local.services import alive, terminate, terminate_from_pid_file
from petswipe_ops.platform.local.varnish import VarnishCache, varnishd_binary
from petswipe_ops.platform.router_errors import WithRouterErrors
from petswipe_ops.platform.seams import VersionInstance, Weights
from petswipe_ops.proc import find_binary, run
from petswipe_ops.record import Outcome, ReleaseLedger
from petswipe_ops.stores import store_env


class SandboxStatus(BaseModel):
    environment: str
    run_dir: str
    router_url: str
    router_running: bool
    weights: Weights | None
    versions: list[VersionInstance]
    prometheus_url: str | None = None


def haproxy_binary() -> str:
    return find_binary("haproxy", env_var="PETSWIPE_HAPROXY_BIN", install_hint=INSTALL_HINT)


class LocalSandbox:
    """Router, services, metrics and database of one local environment."""

    def __init__(self, config: EnvironmentConfig, root: Path | None = None) -> None:
        if config.local is None:
            raise ConfigError(
                f"environment '{config.environment}' runs on {config.platform.value}, "
                "not on the local sandbox."
            )
        self.config = config
        self.local = config.local
        self.root = root or project_root()
        self.run_dir = run_dir(config.environment)
        self.socket_path = self.run_dir / "haproxy.sock"
        self.pid_file = self.run_dir / "haproxy.pid"
        self.postgres = (
            SandboxPostgres(self.run_dir, self.local.postgres.port)
            if self.local.postgres and not self.local.database_url
            else None
        )
        self.database = LocalDatabase(self._database_url())
        self.services = StoreAwareRunner(
            extra_env=lambda: store_env(config),
            script=self.root / "sandbox" / "petswipe_service.py",
            run_dir=self.run_dir,
            ports=self.local.service_ports,
            database_url=self.database.url,
            health_path=config.service.health_check.path,
        )
        self.router = HaproxyRouter(HaproxyRuntime(self.socket_path))
        self.cdn = VarnishCache(
            self.run_dir, config.cdn.port, config.cdn.admin_port, self.local.router_port
        )
        self.metrics = WithRouterErrors(
            PrometheusScraper(), HaproxyServerErrors(self.router.runtime)
        )
        self.prometheus = PrometheusServer(config, self.run_dir)

    def _database_url(self) -> str:
        if self.local.database_url:
            return self.local.database_url
        if self.postgres is not None:
            return self.postgres.url
        return f"sqlite:///{self.run_dir / 'petswipe.db'}"

    def start_database(self) -> LocalDatabase:
        """Start the sandbox's own PostgreSQL, when it has one; nothing else changes."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.postgres is not None:
            self.postgres.up()
            self.database = LocalDatabase(self.postgres.url)
            self.services.database_url = self.database.url
        return self.database

    def database_up(self) -> LocalDatabase:
        """Start the database and give a new one the schema."""
        self.start_database()
        if migrations.status(self.database.url, migrations_dir()).current is None:
            migrations.upgrade(self.database.url, migrations_dir())
        return self.database

    @property
    def router_url(self) -> str:
        return f"http://127.0.0.1:{self.local.router_port}"

    def preflight(self) -> None:
        haproxy_binary()
        k6_binary()

    def up(self) -> SandboxStatus:
        """Start the stable version and HAProxy if they are not up.

        A new database gets the schema first; an existing one is left to the release's
        migrate stage, which checks and records every step.
        """
        binary = haproxy_binary()
        if self.config.cdn.enabled:
            varnishd_binary()
        self.database_up()
        stable = self.services.instance("stable")
        restarted = stable is None
        if stable is None:
            stable = self.services.start(self.stable_version(), "stable", {})
        if not self._router_running():
            self._start_router(binary, stable)
        elif restarted:
            self.router.point_stable(stable)
        self.prometheus.up()
        if self.config.cdn.enabled:
            self.cdn.up()
        return self.status()

    def canary_traffic(self, release_id: str) -> BackgroundLoad:
        """k6 sending the configured rate through the router for as long as a canary may take."""
        canary = self.config.canary
        budget = int(canary.max_step_seconds * len(canary.steps) + 30)
        return BackgroundLoad(
            self.root / "load_tests" / "canary.js",
            {
                "BASE_URL": self.router_url,
                "RATE": str(canary.traffic_rate),
                "DURATION": f"{budget}s",
            },
            self.run_dir / "logs" / f"k6-canary-{release_id}.log",
            pid_file=self.canary_pid_file,
        )

    @property
    def canary_pid_file(self) -> Path:
        return self.run_dir / "k6-canary.pid"

    def end_canary_traffic(self) -> None:
        """Stop canary traffic a killed release left running (its k6 bounds itself anyway)."""
        terminate_from_pid_file(self.canary_pid_file)

    def stable_version(self) -> str:
        """The last version a release promoted here, else the environment's initial one."""
        promoted = [
            r
            for r in ReleaseLedger(self.run_dir / "releases").all()
            if r.outcome is Outcome.PROMOTED
        ]
        return promoted[-1].version if promoted else self.local.stable_version

    def _start_router(self, binary: str, stable: VersionInstance) -> None:
        stable_port = int(stable.endpoint.rsplit(":", 1)[1])
        spare = next(p for p in self.local.service_ports if p != stable_port)
        cfg = self.run_dir / "haproxy.cfg"
        cfg.write_text(
            render_config(
                router_port=self.local.router_port,
                stable_port=stable_port,
                candidate_port=spare,
                socket_path=self.socket_path,
                health_path=self.config.service.health_check.path,
                health_interval_s=self.config.service.health_check.interval_seconds,
                metrics_port=self.local.router_metrics_port,
            )
        )
        run([binary, "-c", "-q", "-f", str(cfg)], timeout=15)
        self.socket_path.unlink(missing_ok=True)
        run([binary, "-D", "-f", str(cfg), "-p", str(self.pid_file)], timeout=15)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._router_running():
                return
            time.sleep(0.05)
        raise SandboxError(f"HAProxy did not open {self.socket_path} within 10 s; see {cfg}.")

    def _router_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None
        return pid if alive(pid) else None

    def _router_running(self) -> bool:
        if self._router_pid() is None or not self.socket_path.exists():
            return False
        try:
            self.router.runtime.command("show info")
        except SandboxError:
            return False
        return True

    def down(self) -> None:
        """Stop every version, HAProxy and the sandbox's PostgreSQL; data and records stay."""
        self.cdn.down()
        for instance in self.services.running():
            self.services.stop(instance)
        stop_replicas(self.run_dir)
        pid = self._router_pid()
        if pid is not None:
            terminate(pid, group=False)
        self.pid_file.unlink(missing_ok=True)
        self.socket_path.unlink(missing_ok=True)
        if self.postgres is not None:
            self.postgres.down()
        self.prometheus.down()

    def status(self) -> SandboxStatus:
        router_running = self._router_running()
        return SandboxStatus(
            environment=self.config.environment,
            run_dir=str(self.run_dir),
            router_url=self.router_url,
            router_running=router_running,
            weights=self.router.get_weights() if router_running else None,
            versions=self.services.running(),
            prometheus_url=self.prometheus.url if self.prometheus.running() else None,
        )
