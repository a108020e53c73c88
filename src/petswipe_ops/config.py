"""Environment configuration: `deployments/<env>.yaml` loaded into validated models.

One file per environment holds everything a release needs to know about it: the
platform, the service and its manifest fields, the canary plan and the SLOs.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from petswipe_ops.errors import ConfigError
from petswipe_ops.release import SEMVER

ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
HEALTH_PATH = re.compile(r"^/[^\s]*$")
MIN_CANARY_REQUESTS = 20
"""The fewest canary requests a step may pass on. With n clean requests the 95 % upper
bound on the error rate is about 3/n (the rule of three): below 20 that is over 15 %, so
a step would promote a candidate that fails one request in seven without having seen it."""

Port = Annotated[int, Field(ge=1024, le=65535)]
"""A TCP port the sandbox binds on 127.0.0.1: unprivileged, so no root is needed."""


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlatformKind(StrEnum):
    LOCAL = "local"
    AWS = "aws"


class HealthCheck(Model):
    path: str = "/health"
    interval_seconds: int = Field(5, ge=1, le=300)
    timeout_seconds: int = Field(2, ge=1, le=60)

    @field_validator("path")
    @classmethod
    def _url_path(cls, path: str) -> str:
        # The path lands in HAProxy's config and in the ECS/ALB health check: a space or a
        # newline there would break (or add to) the generated configuration.
        if not HEALTH_PATH.match(path):
            raise ValueError(
                f"{path!r} must start with / and hold no spaces or newlines, e.g. /health"
            )
        return path


class Resources(Model):
    cpu_millicores: int = Field(ge=1)
    memory_mib: int = Field(ge=1)
    storage_gib: int = Field(1, ge=0)


class Security(Model):
    run_as_non_root: bool = True
    run_as_user: int = 10001
    read_only_root_filesystem: bool = True
    privileged: bool = False
    allow_privilege_escalation: bool = False
    capabilities_add: list[str] = Field(default_factory=list)
    capabilities_drop: list[str] = Field(default_factory=lambda: ["ALL"])


class Service(Model):
    name: str = "petswipe-api"
    image: str = Field(description="registry/repository, without a tag; the release adds it")
    replicas: int = Field(2, ge=1)
    health_check: HealthCheck = HealthCheck()
    resources: Resources
    security: Security = Security()
    secrets: list[str] = Field(default_factory=lambda: ["DATABASE_URL"])
    monthly_cost_usd: float = Field(0, ge=0)


class TimeoutPolicy(StrEnum):
    ROLLBACK = "rollback"
    PAUSE = "pause"


class SequentialGateSettings(Model):
    """What the sequential gate guarantees, and how small a regression it must catch.

    The defaults are the ones `bench/canary_gate.py` measures (docs/gates.md).
    """

    alpha: float = Field(
        0.01, gt=0, lt=0.5, description="highest chance of rolling back a candidate within SLO"
    )
    beta: float = Field(
        0.01,
        gt=0,
        lt=0.5,
        description="highest chance of promoting a candidate at the smallest effect or worse",
    )
    error_effect: float = Field(
        20.0, gt=1, description="smallest error rate worth catching, as a multiple of the SLO's"
    )
    latency_effect: float = Field(
        3.0,
        gt=1,
        description="smallest share of requests beyond a quantile's threshold worth catching, "
        "as a multiple of the quantile's tail (3: 15 % slower than the p95 threshold)",
    )
    latency_tolerance_ms: float = Field(
        50.0, ge=0, description="how much slower than the stable's a candidate's p95/p99 may be"
    )
    latency_tolerance_ratio: float = Field(
        0.2, ge=0, description="the same as a fraction of the stable's quantile; the larger wins"
    )
    budget_tighten_below: float = Field(
        0.5, gt=0, le=1, description="error budget left under which promotion gets stricter"
    )


class Canary(Model):
    steps: list[Annotated[int, Field(gt=0, le=100)]] = Field(default_factory=lambda: [10, 50, 100])
    min_requests: int = Field(
        200,
        ge=MIN_CANARY_REQUESTS,
        description="canary requests a step needs before a pass (MIN_CANARY_REQUESTS says why)",
    )
    max_step_seconds: float = Field(60, gt=0, le=3600)
    observe_interval_seconds: float = Field(
        0.2, ge=0.05, le=300, description="how often the gate reads both versions' metrics"
    )
    metric_error_limit: int = Field(
        4,
        ge=0,
        le=100,
        description=(
            "failed metric reads in a row a step forgives before it rolls back "
            "(Argo Rollouts' consecutiveErrorLimit)"
        ),
    )
    on_timeout: TimeoutPolicy = TimeoutPolicy.ROLLBACK
    gate: Literal["sequential", "threshold"] = Field(
        "sequential", description="sequential tests (docs/gates.md) or fixed SLO thresholds"
    )
    sequential: SequentialGateSettings = SequentialGateSettings()
    traffic_rate: int = Field(
        150,
        ge=1,
        le=1000,
        description="requests per second k6 sends through the router (local; loopback load "
        "stays bounded)",
    )
    min_step_seconds: float = Field(
        10,
        ge=0,
        description=(
            "bake time: no step is promoted sooner, whatever its request count "
            "(a rollback may come earlier)"
        ),
    )

    @field_validator("steps")
    @classmethod
    def _increasing_to_full(cls, steps: list[int]) -> list[int]:
        if not steps or steps != sorted(set(steps)) or steps[-1] != 100:
            raise ValueError("must be strictly increasing percentages ending at 100")
        return steps

    @field_validator("observe_interval_seconds")
    @classmethod
    def _looks_within_a_step(cls, interval: float, info: ValidationInfo) -> float:
        longest = info.data.get("max_step_seconds")
        if longest is not None and interval >= longest:
            raise ValueError(
                f"must be shorter than max_step_seconds ({longest:g}), or a step never looks"
            )
        return interval

    @model_validator(mode="after")
    def _bake_within_the_step(self) -> Canary:
        if self.min_step_seconds >= self.max_step_seconds:
            raise ValueError(
                f"min_step_seconds ({self.min_step_seconds:g}) must be shorter than "
                f"max_step_seconds ({self.max_step_seconds:g}), or no step could pass"
            )
        return self


class Slo(Model):
    availability: float = Field(0.999, gt=0, lt=1)
    error_rate: float = Field(0.001, gt=0, lt=1, description="highest acceptable error ratio")
    p50_ms: float = Field(200, gt=0)
    p95_ms: float = Field(500, gt=0)
    p99_ms: float = Field(1000, gt=0)


class Approval(Model):
    required: bool = True
    allow_auto: bool = Field(
        False, description="whether a request may auto-approve itself (CI, demos) here"
    )
    timeout_seconds: int = Field(3600, ge=1, le=7 * 24 * 3600)


class CollisionStrategy(StrEnum):
    """What a second release to a busy environment does: wait its turn, or be refused."""

    ENQUEUE = "enqueue"
    CANCEL_NEW = "cancel-new"


class ReleasePolicy(Model):
    collision_strategy: CollisionStrategy = CollisionStrategy.ENQUEUE


class LocalPostgres(Model):
    """A PostgreSQL cluster of the sandbox's own, from the Debian binaries, on 127.0.0.1."""

    port: Port = 18083


class BackupTier(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Backup(Model):
    """Backup, verification and DR-drill settings; defaults follow the seed's schedule."""

    rpo_hours: float = Field(
        26, gt=0, description="newest recovery point and newest data at most this old"
    )
    restore_time_target_seconds: float = Field(
        900, gt=0, description="restore + verification must finish within this (the RTO)"
    )
    retention_days: dict[BackupTier, int] = Field(
        default_factory=lambda: {
            BackupTier.DAILY: 30,
            BackupTier.WEEKLY: 90,
            BackupTier.MONTHLY: 365,
        }
    )
    verification_sample_size: int = Field(1, ge=1, description="backups restored per check")
    row_count_tolerance: float = Field(
        0.05,
        ge=0,
        lt=1,
        description="restored rows may differ from the source's at backup time by this fraction",
    )
    before_migration: bool = Field(False, description="back up before the release migrates")
    vault_dir: str | None = Field(None, description="default: <run dir>/backups")
    key_env: str = Field("PETSWIPE_BACKUP_KEY", description="variable holding the Fernet key")
    key_block: str = Field("petswipe-backup-key", description="Prefect Secret block name")
    create_local_key: bool = Field(
        True, description="local only: make a key file in the run folder when none is set"
    )
    notify_webhook_env: str = Field(
        "PETSWIPE_NOTIFY_WEBHOOK", description="variable holding a Slack-style webhook URL"
    )

    @field_validator("retention_days")
    @classmethod
    def _every_tier(cls, days: dict[BackupTier, int]) -> dict[BackupTier, int]:
        missing = [t.value for t in BackupTier if t not in days]
        if missing or any(d < 1 for d in days.values()):
            raise ValueError(f"needs a positive day count for every tier (missing: {missing})")
        return days


class LocalPlatform(Model):
    router_port: Port = 18080
    service_ports: tuple[Port, Port] = (18081, 18082)
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite in the sandbox's run folder"
    )
    stable_version: str = "1.0.0"
    postgres: LocalPostgres | None = Field(
        None, description="run the service on a PostgreSQL cluster the sandbox starts itself"
    )
    prometheus_port: int = Field(
        18084, ge=1024, le=65535, description="the sandbox's Prometheus server (SLO history)"
    )
    router_metrics_port: int = Field(
        18085, ge=1024, le=65535, description="HAProxy's built-in Prometheus exporter"
    )
    prometheus_scrape_seconds: int = Field(
        15, ge=1, le=300, description="how often Prometheus scrapes the router and the versions"
    )

    @field_validator("service_ports")
    @classmethod
    def _distinct_services(cls, ports: tuple[int, int], info: ValidationInfo) -> tuple[int, int]:
        if ports[0] == ports[1]:
            raise ValueError(
                f"needs two different ports for stable and candidate, not {ports[0]} twice"
            )
        router = info.data.get("router_port")
        if router in ports:
            raise ValueError(f"port {router} is already the router's (router_port)")
        return ports

    @field_validator("stable_version")
    @classmethod
    def _semantic(cls, version: str) -> str:
        if not SEMVER.match(version):
            raise ValueError(f"'{version}' is not a semantic version such as 1.4.0")
        return version

    @field_validator("postgres")
    @classmethod
    def _own_port(
        cls, postgres: LocalPostgres | None, info: ValidationInfo
    ) -> LocalPostgres | None:
        taken = {info.data.get("router_port"): "router_port"}
        taken |= {port: "service_ports" for port in info.data.get("service_ports", ())}
        if postgres is not None and postgres.port in taken:
            raise ValueError(f"port {postgres.port} is already taken by {taken[postgres.port]}")
        return postgres


class AwsMetricsSource(StrEnum):
    CLOUDWATCH = "cloudwatch"
    PROMETHEUS = "prometheus"


class AwsPlatform(Model):
    """Where an AWS environment is; its resources' ARNs come from its terraform root's outputs."""

    region: str
    dr_region: str
    account_id: str = Field(pattern=r"^\d{12}$")
    endpoint_url: str | None = Field(
        None,
        description="one URL for every AWS API; default: AWS itself, or the running AWS sandbox",
    )
    metrics_source: AwsMetricsSource = Field(
        AwsMetricsSource.CLOUDWATCH,
        description="where the canary gate reads per-version metrics",
    )
    prometheus_url: str | None = Field(
        None,
        description="Prometheus HTTP API (e.g. Amazon Managed Prometheus) for metrics_source "
        "prometheus; default: the AWS sandbox's Prometheus",
    )
    step_ready_timeout_seconds: float = Field(
        600, gt=0, description="how long an ECS service may take to reach a steady state"
    )


class LoadTestSettings(Model):
    """k6 campaigns: how hard and long the scripts run here, and what counts as a regression."""

    default_scale: float = Field(1.0, gt=0, le=10, description="multiplies every duration")
    rate_scale: float = Field(1.0, gt=0, le=10, description="multiplies every arrival rate")
    max_vus: int = Field(200, ge=1, le=5000, description="cap on k6 virtual users")
    p95_tolerance: float = Field(
        0.2, ge=0, description="relative p95 growth over the baseline that is still fine"
    )
    p95_tolerance_ms: float = Field(
        50, ge=0, description="absolute p95 growth (ms) that is still fine"
    )
    error_rate_tolerance: float = Field(
        0.002, ge=0, lt=1, description="error-rate growth (absolute) that is still fine"
    )
    retention_days: int = Field(90, ge=1, description="stored results older than this go")


class HistorySource(StrEnum):
    PROMETHEUS = "prometheus"
    CLOUDWATCH = "cloudwatch"
    FILE = "file"


class PredictiveScaling(Model):
    """The predictive-scaling flow: where history comes from and how a forecast becomes tasks."""

    history: HistorySource | None = Field(
        None, description="default: prometheus on the local platform, cloudwatch on AWS"
    )
    history_file: str | None = Field(
        None, description="JSON list of {at, value} request rates, when history is 'file'"
    )
    prometheus_url: str = "http://127.0.0.1:9090"
    request_rate_query: str = "sum(rate(petswipe_http_requests_total[5m]))"
    history_days: int = Field(7, ge=7, le=35)
    horizon_hours: int = Field(48, ge=1, le=168)
    quantile: float = Field(0.9, gt=0.5, lt=1, description="forecast band the plan sizes for")
    requests_per_task: float = Field(50, gt=0, description="requests/s one task serves at 100 %")
    target_utilization: float = Field(0.7, gt=0, le=1)
    min_tasks: int | None = Field(
        None, ge=1, description="default: service.replicas on AWS, 1 process locally"
    )
    max_tasks: int = Field(10, ge=1)
    lead_minutes: int = Field(10, ge=0, le=60, description="capacity is added this early")


DURATION = re.compile(r"^(\d+)(m|h|d)$")
DURATION_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def duration_seconds(text: str) -> int:
    """`5m`, `6h`, `30d` in seconds (Prometheus' duration units this project uses)."""
    match = DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"'{text}' is not a duration like 5m, 6h or 30d")
    return int(match.group(1)) * DURATION_SECONDS[match.group(2)]


class EventsIndicator(Model):
    """Good/total events: requests answered without a 5xx, out of all requests.

    `router` counts what users see at the router (HAProxy, the ALB); `service` counts
    what the service itself answered.
    """

    kind: Literal["events"] = "events"
    source: Literal["router", "service"] = "router"


class LatencyIndicator(Model):
    """Requests answered within `threshold_ms`, out of all requests.

    A percentile SLO "p95 under 500 ms" is the ratio SLO "95 % of requests within
    500 ms", which a histogram bucket counts exactly; the threshold must be a bucket
    bound of the service's latency histogram.
    """

    kind: Literal["latency"] = "latency"
    threshold_ms: float = Field(gt=0)


class SloSpec(Model):
    """One SLO in the shape of OpenSLO: an indicator, an objective, a rolling window."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,40}$")
    description: str = ""
    objective: float = Field(gt=0, lt=1, description="share of good events, e.g. 0.999")
    window: str = Field("30d", description="rolling window: 1h, 24h, 30d ...")
    indicator: Annotated[EventsIndicator | LatencyIndicator, Field(discriminator="kind")]

    @field_validator("window")
    @classmethod
    def _duration(cls, window: str) -> str:
        duration_seconds(window)
        return window

    @property
    def window_seconds(self) -> int:
        return duration_seconds(self.window)

    @property
    def budget(self) -> float:
        """The error budget as a ratio of events: 1 - objective."""
        return 1 - self.objective


def seed_slos() -> list[SloSpec]:
    """The seed's five SLOs."""
    return [
        SloSpec(
            name="availability",
            description="requests through the router answered without a 5xx",
            objective=0.999,
            window="30d",
            indicator=EventsIndicator(source="router"),
        ),
        SloSpec(
            name="latency-p50",
            description="half of the requests within 200 ms",
            objective=0.5,
            window="24h",
            indicator=LatencyIndicator(threshold_ms=200),
        ),
        SloSpec(
            name="latency-p95",
            description="95 % of the requests within 500 ms",
            objective=0.95,
            window="24h",
            indicator=LatencyIndicator(threshold_ms=500),
        ),
        SloSpec(
            name="latency-p99",
            description="99 % of the requests within 1000 ms",
            objective=0.99,
            window="24h",
            indicator=LatencyIndicator(threshold_ms=1000),
        ),
        SloSpec(
            name="error-rate",
            description="server errors of the service under 0.1 % over an hour",
            objective=0.999,
            window="1h",
            indicator=EventsIndicator(source="service"),
        ),
    ]


class PagerDutySettings(Model):
    events_url: str = Field(
        "https://events.pagerduty.com/v2/enqueue", description="Events API v2 endpoint"
    )
    routing_key_env: str = Field(
        "PETSWIPE_PAGERDUTY_ROUTING_KEY", description="variable holding the routing key"
    )
    routing_key_block: str = Field(
        "petswipe-pagerduty-routing-key", description="Prefect Secret block holding it"
    )
    timeout_seconds: float = Field(10, gt=0)
    attempts: int = Field(5, ge=1, le=10, description="tries of one event on 429/5xx")
    backoff_seconds: float = Field(1.0, ge=0, description="first retry delay, doubled each time")


class SloAlerting(Model):
    """Where SLO history comes from and where its alerts go."""

    prometheus_url: str | None = Field(
        None, description="Prometheus HTTP API; local default: the sandbox's own server"
    )
    prometheus_selector: str = Field(
        "", description='extra label matchers for every SLI series, e.g. job="petswipe"'
    )
    evaluation_interval: str = Field("1m", description="how often Prometheus evaluates rules")
    budget_low_below: float = Field(
        0.25, gt=0, lt=1, description="budget left under which a warning goes out"
    )
    pagerduty: PagerDutySettings = PagerDutySettings()
    slack_webhook_env: str = Field(
        "PETSWIPE_NOTIFY_WEBHOOK", description="variable holding a Slack incoming-webhook URL"
    )
    sns_topic_arn: str | None = Field(None, description="AWS: topic for tickets and warnings")
    report_base_url: str | None = Field(
        None, description="where reports are browsable; default: file:// links to the run folder"
    )
    report_retention_days: int = Field(35, ge=1)

    @field_validator("evaluation_interval")
    @classmethod
    def _interval(cls, interval: str) -> str:
        duration_seconds(interval)
        return interval


class FeatureFlagSettings(Model):
    """Feature flags: where they live on AWS and how a rollout is watched and timed."""

    appconfig_application: str = Field("petswipe", description="AppConfig application name")
    appconfig_profile: str = Field("feature-flags", description="configuration profile name")
    appconfig_environment_id: str | None = Field(
        None, description="AppConfig environment id the flow deploys each version to"
    )
    scale: float = Field(
        1.0, gt=0, le=10, description="multiplies every strategy's step durations (tests: 0.002)"
    )
    observe_interval_seconds: float = Field(1.0, gt=0, description="how often the gate looks")
    min_requests: int = Field(
        100, ge=1, description="flag-on requests a step's window needs before the gate can pass"
    )
    refresh_seconds: float = Field(2.0, gt=0, description="how often a service re-reads flags")


class Cdn(Model):
    """The edge cache: Varnish in front of HAProxy locally, CloudFront on AWS."""

    enabled: bool = Field(False, description="local: the sandbox starts Varnish")
    port: int = Field(18084, ge=1024, le=65535, description="local: Varnish listens here")
    admin_port: int = Field(18085, ge=1024, le=65535, description="local: varnishadm port")
    cloudfront_distribution_id: str | None = Field(None, description="AWS: the distribution")
    invalidate_on_release: list[str] = Field(
        default_factory=list, description="paths the release's finalize stage invalidates"
    )


class EnvironmentConfig(Model):
    environment: str
    platform: PlatformKind
    service: Service
    canary: Canary = Canary()
    slo: Slo = Slo()
    approval: Approval = Approval()
    load_test: LoadTestSettings = LoadTestSettings()
    release: ReleasePolicy = ReleasePolicy()
    backup: Backup = Backup()
    local: LocalPlatform | None = None
    aws: AwsPlatform | None = None
    scaling: PredictiveScaling = PredictiveScaling()

    slos: list[SloSpec] = Field(default_factory=seed_slos)
    slo_alerting: SloAlerting = SloAlerting()

    @field_validator("slos")
    @classmethod
    def _unique_slo_names(cls, slos: list[SloSpec]) -> list[SloSpec]:
        names = [s.name for s in slos]
        if len(names) != len(set(names)):
            raise ValueError(f"SLO names must be unique, not {names}")
        return slos

    feature_flags: FeatureFlagSettings = FeatureFlagSettings()
    cdn: Cdn = Cdn()

    @model_validator(mode="after")
    def _platform_section(self) -> EnvironmentConfig:
        section = self.platform.value
        if getattr(self, section) is None:
            raise ValueError(f"platform is {section} but the '{section}' section is missing")
        return self


def deployments_dir(root: Path) -> Path:
    return root / "deployments"


def available_environments(root: Path) -> list[str]:
    return sorted(p.stem for p in deployments_dir(root).glob("*.yaml"))


def load_environment(name: str, root: Path) -> EnvironmentConfig:
    """Load and validate `deployments/<name>.yaml`; any problem is one ConfigError sentence."""
    if not ENV_NAME.match(name):
        raise ConfigError(
            f"'{name}' is not a valid environment name; use lowercase letters, digits and dashes."
        )
    path = deployments_dir(root) / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(available_environments(root)) or "none"
        raise ConfigError(
            f"unknown environment '{name}': there is no {path.relative_to(root)}; "
            f"known environments: {known}."
        )
    return load_file(path)


def load_file(path: Path) -> EnvironmentConfig:
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}; fix the syntax.") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, not {type(raw).__name__}.")
    try:
        config = EnvironmentConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        reason = first["msg"].removeprefix("Value error, ").rstrip(".")
        raise ConfigError(f"{path}: field '{field}' is invalid: {reason}.") from None
    if config.environment != path.stem:
        raise ConfigError(
            f"{path}: field 'environment' is '{config.environment}' but the file is "
            f"for '{path.stem}'; make them match."
        )
    return config
