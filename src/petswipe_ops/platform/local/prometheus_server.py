"""The sandbox's Prometheus server: the SLO history, kept in the run folder.

Debian's `prometheus` package, bound to 127.0.0.1, scraping HAProxy's exporter and
both service ports (whichever version runs there), evaluating the SLO rules generated
from deployments/<env>.yaml. `up()` is idempotent: a running server gets the new
config and rules by a reload, so its history is never lost to a restart.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import yaml

from petswipe_ops import http_client
from petswipe_ops.child_env import child_env
from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import SandboxError
from petswipe_ops.platform.local.services import alive, terminate
from petswipe_ops.proc import find_binary
from petswipe_ops.slo.rules import write_rules

INSTALL_HINT = "install it with `apt-get install prometheus` (Debian) or `brew install prometheus`"
MIN_RETENTION_DAYS = 31
START_TIMEOUT_S = 30.0


def prometheus_binary() -> str:
    return find_binary("prometheus", env_var="PETSWIPE_PROMETHEUS_BIN", install_hint=INSTALL_HINT)


def promtool_binary() -> str:
    return find_binary("promtool", env_var="PETSWIPE_PROMTOOL_BIN", install_hint=INSTALL_HINT)


def retention_days(config: EnvironmentConfig) -> int:
    """At least 31 days, and a day more than the longest SLO window."""
    longest = max((s.window_seconds for s in config.slos), default=0)
    return max(MIN_RETENTION_DAYS, -(-longest // 86400) + 1)


def render_config(
    config: EnvironmentConfig, *, router_metrics_port: int, service_ports: tuple[int, ...]
) -> str:
    scrape = config.local.prometheus_scrape_seconds if config.local else 15
    document = {
        "global": {
            "scrape_interval": f"{scrape}s",
            "evaluation_interval": config.slo_alerting.evaluation_interval,
            "external_labels": {"environment": config.environment},
        },
        "rule_files": ["rules.yml"],
        "scrape_configs": [
            {
                "job_name": "haproxy",
                "static_configs": [{"targets": [f"127.0.0.1:{router_metrics_port}"]}],
            },
            {
                "job_name": "petswipe",
                "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in service_ports]}],
            },
        ],
    }
    return yaml.safe_dump(document, sort_keys=False)


class PrometheusServer:
    """One Prometheus process per sandbox; config, rules, data and pid under `run_dir`."""

    def __init__(self, config: EnvironmentConfig, run_dir: Path) -> None:
        if config.local is None:
            raise SandboxError(f"environment '{config.environment}' has no local sandbox.")
        self.config = config
        self.port = config.local.prometheus_port
        self.home = run_dir / "prometheus"
        self.data_dir = self.home / "data"
        self.config_path = self.home / "prometheus.yml"
        self.rules_path = self.home / "rules.yml"
        self.pid_file = self.home / "prometheus.pid"
        self.log_path = run_dir / "logs" / "prometheus.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_files(self) -> None:
        local = self.config.local
        assert local is not None
        self.home.mkdir(parents=True, exist_ok=True)
        text = render_config(
            self.config,
            router_metrics_port=local.router_metrics_port,
            service_ports=tuple(local.service_ports),
        )
        if not self.config_path.is_file() or self.config_path.read_text() != text:
            self.config_path.write_text(text)
        write_rules(self.config, self.rules_path)

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if alive(pid) else None

    def ready(self) -> bool:
        try:
            return http_client.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def up(self) -> str:
        """Start the server, or reload a running one; returns its URL."""
        self.write_files()
        if self.pid() is not None and self.ready():
            self._reload()
            return self.url
        binary = prometheus_binary()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        args = [
            binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--storage.tsdb.retention.time={retention_days(self.config)}d",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle",
        ]
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.home,
                env=child_env(),
                start_new_session=True,
            )
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                tail = self.log_path.read_text().strip().splitlines()[-1:] or ["no output"]
                raise SandboxError(
                    f"Prometheus exited during start-up (code {process.returncode}): {tail[0]}"
                )
            if self.ready():
                return self.url
            time.sleep(0.1)
        self.down()
        raise SandboxError(
            f"Prometheus did not become ready on {self.url} within {START_TIMEOUT_S:.0f} s; "
            f"see {self.log_path}."
        )

    def _reload(self) -> None:
        try:
            http_client.post(f"{self.url}/-/reload", timeout=10).raise_for_status()
        except httpx.HTTPError as exc:
            raise SandboxError(
                f"Prometheus on {self.url} refused to reload its config ({exc}); "
                f"see {self.log_path}."
            ) from exc

    def down(self) -> None:
        """Stop the server; its data stays for the next `up()`."""
        pid = self.pid()
        if pid is not None:
            terminate(pid)
        self.pid_file.unlink(missing_ok=True)

    def running(self) -> bool:
        return self.pid() is not None and self.ready()
