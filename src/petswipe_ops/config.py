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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from petswipe_ops.errors import ConfigError

ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlatformKind(StrEnum):
    LOCAL = "local"
    AWS = "aws"


class HealthCheck(Model):
    path: str = "/health"
    interval_seconds: int = Field(5, ge=1)
    timeout_seconds: int = Field(2, ge=1)


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
    min_requests: int = Field(200, ge=1, description="canary requests a step needs before a pass")
    max_step_seconds: float = Field(60, gt=0)
    observe_interval_seconds: float = Field(
        0.2, gt=0, description="how often the gate reads both versions' metrics"
    )
    metric_error_limit: int = Field(
        4,
        ge=0,
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
        150, ge=1, description="requests per second k6 sends through the router (local)"
    )

    @field_validator("steps")
    @classmethod
    def _increasing_to_full(cls, steps: list[int]) -> list[int]:
        if not steps or steps != sorted(set(steps)) or steps[-1] != 100:
            raise ValueError("must be strictly increasing percentages ending at 100")
        return steps


class Slo(Model):
    availability: float = Field(0.999, gt=0, lt=1)
    error_rate: float = Field(0.001, gt=0, lt=1, description="highest acceptable error ratio")
    p50_ms: float = Field(200, gt=0)
    p95_ms: float = Field(500, gt=0)
    p99_ms: float = Field(1000, gt=0)


class Approval(Model):
    required: bool = True
    timeout_seconds: int = Field(3600, ge=1)


class CollisionStrategy(StrEnum):
    """What a second release to a busy environment does: wait its turn, or be refused."""

    ENQUEUE = "enqueue"
    CANCEL_NEW = "cancel-new"


class ReleasePolicy(Model):
    collision_strategy: CollisionStrategy = CollisionStrategy.ENQUEUE


class LocalPostgres(Model):
    """A PostgreSQL cluster of the sandbox's own, from the Debian binaries, on 127.0.0.1."""

    port: int = Field(18083, ge=1024, le=65535)


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
    router_port: int = Field(18080, ge=1024, le=65535)
    service_ports: tuple[int, int] = (18081, 18082)
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite in the sandbox's run folder"
    )
    stable_version: str = "1.0.0"
    postgres: LocalPostgres | None = Field(
        None, description="run the service on a PostgreSQL cluster the sandbox starts itself"
    )


class AwsMetricsSource(StrEnum):
    CLOUDWATCH = "cloudwatch"
    PROMETHEUS = "prometheus"


class AwsPlatform(Model):
    """Where an AWS environment is; its resources' ARNs come from its terraform root's outputs."""

    region: str
    dr_region: str
    account_id: str = Field(pattern=r"^\d{12}$")
    cluster: str | None = Field(None, description="unused: read from the terraform outputs")
    service: str | None = Field(None, description="unused: read from the terraform outputs")
    listener_arn: str | None = Field(None, description="unused: read from the terraform outputs")
    stable_target_group_arn: str | None = Field(None, description="unused: terraform outputs")
    canary_target_group_arn: str | None = Field(None, description="unused: terraform outputs")
    db_instance: str | None = Field(None, description="unused: read from the terraform outputs")
    backup_vault: str | None = Field(None, description="unused: read from the terraform outputs")
    secrets_prefix: str | None = Field(None, description="unused: read from the terraform outputs")
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
        raise ConfigError(f"{path}: field '{field}' is invalid: {first['msg']}.") from exc
    if config.environment != path.stem:
        raise ConfigError(
            f"{path}: field 'environment' is '{config.environment}' but the file is "
            f"for '{path.stem}'; make them match."
        )
    return config
