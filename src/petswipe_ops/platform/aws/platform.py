"""AwsPlatform: the seams' AWS adapters for one environment, wired from its terraform outputs.

Construction for a release (or any flow):

    platform = AwsPlatform(config)                      # AWS itself, or the running sandbox
    platform = AwsPlatform(config, endpoint_url=url)    # an explicit endpoint (tests)

The endpoint is, in order: the argument, `aws.endpoint_url` of the environment file, the
environment's running AWS sandbox (its moto server), else AWS itself. Resources come from
the outputs the last terraform apply of terraform/environments/aws saved for the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from petswipe_ops.config import AwsMetricsSource, EnvironmentConfig
from petswipe_ops.errors import ConfigError
from petswipe_ops.k6 import BackgroundLoad, k6_binary
from petswipe_ops.paths import project_root, run_dir
from petswipe_ops.platform.aws.clients import AwsClients, check_region
from petswipe_ops.platform.aws.database import RdsDatabase
from petswipe_ops.platform.aws.metrics import (
    CloudWatchMetrics,
    PrometheusMetrics,
    SandboxCloudWatchMetrics,
)
from petswipe_ops.platform.aws.outputs import StackOutputs, load_outputs, stack_terraform
from petswipe_ops.platform.aws.release_tools import AwsReleaseTools
from petswipe_ops.platform.aws.router import AlbRouter
from petswipe_ops.platform.aws.sandbox.state import SANDBOX_CREDENTIALS, read_state
from petswipe_ops.platform.aws.secrets import SecretsManagerStore
from petswipe_ops.platform.aws.services import EcsServices
from petswipe_ops.platform.local.services import terminate_from_pid_file
from petswipe_ops.platform.seams import MetricsSource, VersionInstance, Weights


class AwsStatus(BaseModel):
    environment: str
    endpoint: str
    listener_url: str | None
    weights: Weights
    services: list[VersionInstance]

    @property
    def router_url(self) -> str | None:
        """Where users' traffic enters: the emulated listener, or the load balancer's name."""
        return self.listener_url


class RealUsers:
    """Canary traffic on AWS is the users' own: nothing to start, nothing that can end early."""

    def check_running(self) -> None:
        return None

    def __enter__(self) -> RealUsers:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class AwsPlatform:
    def __init__(
        self,
        config: EnvironmentConfig,
        *,
        endpoint_url: str | None = None,
        outputs: StackOutputs | None = None,
        credentials: dict[str, str] | None = None,
        prometheus_url: str | None = None,
    ) -> None:
        if config.aws is None:
            raise ConfigError(
                f"environment '{config.environment}' has no 'aws' section; add region, "
                "dr_region and account_id under aws:."
            )
        self.config = config
        self.sandbox = read_state(config.environment)
        self.endpoint_url = (
            endpoint_url
            or config.aws.endpoint_url
            or (self.sandbox.moto_url if self.sandbox else None)
        )
        if credentials is None and self.sandbox and self.endpoint_url == self.sandbox.moto_url:
            credentials = SANDBOX_CREDENTIALS
        self.clients = AwsClients(
            config.aws.region, endpoint_url=self.endpoint_url, credentials=credentials
        )
        check_region(config.aws.dr_region, "aws.dr_region")
        self.outputs = outputs or load_outputs(config, self.terraform())
        self.secrets = SecretsManagerStore(self.clients, self.outputs.secrets_prefix)
        self.services = EcsServices(
            self.clients,
            self.outputs,
            replicas=config.service.replicas,
            ready_timeout=config.aws.step_ready_timeout_seconds,
            wait_for_targets=not self.emulated or self.sandbox is not None,
        )
        self.router = AlbRouter(self.clients, self.outputs, self.services)
        self.metrics = self._metrics(prometheus_url)
        self.database = RdsDatabase(self.clients, self.outputs, self.secrets)

    @property
    def emulated(self) -> bool:
        """Whether the endpoint is not AWS itself (moto: no percentiles, no data plane)."""
        return self.endpoint_url is not None

    def terraform(self):
        return stack_terraform(self.config, self.endpoint_url)

    @property
    def release_tools(self) -> AwsReleaseTools:
        """Plan and apply the AWS root at this endpoint; an RDS snapshot before migrating."""
        return AwsReleaseTools(self)

    def _metrics(self, prometheus_url: str | None) -> MetricsSource:
        aws = self.config.aws
        assert aws is not None
        if aws.metrics_source is AwsMetricsSource.PROMETHEUS:
            url = (
                prometheus_url
                or aws.prometheus_url
                or (self.sandbox.prometheus_url if self.sandbox else None)
            )
            if not url:
                raise ConfigError(
                    f"environment '{self.config.environment}' reads metrics from Prometheus but "
                    "has no aws.prometheus_url; set it, or start the AWS sandbox."
                )
            return PrometheusMetrics(url, self.outputs)
        cloudwatch = CloudWatchMetrics(
            self.clients, self.outputs, latency_statistics=not self.emulated
        )
        if self.emulated and self.sandbox and self.sandbox.prometheus_url:
            return SandboxCloudWatchMetrics(
                cloudwatch, PrometheusMetrics(self.sandbox.prometheus_url, self.outputs)
            )
        return cloudwatch

    def preflight(self) -> None:
        """Read the listener and both services before a release changes anything."""
        self.router.get_weights()
        self.services.describe("stable")
        self.services.describe("candidate")
        if self.sandbox and self.sandbox.listener_url:
            k6_binary()

    def up(self) -> AwsStatus:
        return self.status()

    def status(self) -> AwsStatus:
        return AwsStatus(
            environment=self.config.environment,
            endpoint=self.endpoint_url or f"AWS ({self.config.aws.region})",
            listener_url=(
                self.sandbox.listener_url
                if self.sandbox
                else self.outputs.load_balancer_dns_name
                and f"https://{self.outputs.load_balancer_dns_name}"
            ),
            weights=self.router.get_weights(),
            services=self.services.running(),
        )

    def canary_traffic(self, release_id: str) -> BackgroundLoad | RealUsers:
        """On the AWS sandbox k6 through the emulated listener; on AWS the users' own traffic."""
        if not (self.sandbox and self.sandbox.listener_url):
            return RealUsers()
        canary = self.config.canary
        budget = int(canary.max_step_seconds * len(canary.steps) + 30)
        return BackgroundLoad(
            project_root() / "load_tests" / "canary.js",
            {
                "BASE_URL": self.sandbox.listener_url,
                "RATE": str(canary.traffic_rate),
                "DURATION": f"{budget}s",
            },
            run_dir(self.config.environment) / "logs" / f"k6-canary-{release_id}.log",
            pid_file=self.canary_pid_file,
        )

    @property
    def canary_pid_file(self) -> Path:
        return run_dir(self.config.environment) / "k6-canary.pid"

    def end_canary_traffic(self) -> None:
        """Stop the sandbox's canary k6 a killed release left running; on AWS the canary
        traffic is the users' own, so there is nothing to stop."""
        terminate_from_pid_file(self.canary_pid_file)
