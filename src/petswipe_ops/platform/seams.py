"""The small interfaces the release pipeline talks to; each platform implements them.

The flows never call boto3, a subprocess or HAProxy directly: they hold a `Platform`
and ask it to move traffic, start a version, read metrics or reach the database.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.metrics import VersionMetrics


class Weights(BaseModel):
    """Traffic split in percent, as the router itself reports it."""

    model_config = ConfigDict(frozen=True)

    stable: int
    candidate: int


class RouterState(BaseModel):
    """What the router really does: its weights and where each side's traffic goes.

    Reconcile reads this rather than trusting a record, so it never stops the process
    that serves users whatever moment a release was killed at.
    """

    model_config = ConfigDict(frozen=True)

    weights: Weights
    stable_target: str | None
    candidate_target: str | None = None


class VersionInstance(BaseModel):
    """A running version of the service, as far as the pipeline needs to know it."""

    model_config = ConfigDict(frozen=True)

    version: str
    role: str
    endpoint: str
    handle: str


@runtime_checkable
class TrafficRouter(Protocol):
    """Splits live traffic between the stable and the candidate version."""

    def get_weights(self) -> Weights: ...

    def state(self) -> RouterState: ...

    def set_candidate_weight(self, percent: int) -> Weights: ...

    def attach_candidate(self, instance: VersionInstance) -> None: ...

    def point_stable(self, instance: VersionInstance) -> None:
        """Send the stable side's traffic to `instance` (its weight is left as it is)."""

    def detach_candidate(self) -> None:
        """Stable 100 %, candidate 0 % and parked; idempotent."""


@runtime_checkable
class ServiceRunner(Protocol):
    """Starts and stops versions of the service (a process locally, an ECS service on AWS)."""

    def start(self, version: str, role: str, env: dict[str, str]) -> VersionInstance: ...

    def stop(self, instance: VersionInstance) -> None: ...

    def healthy(self, instance: VersionInstance) -> bool: ...

    def running(self) -> list[VersionInstance]: ...

    def instance(self, role: str) -> VersionInstance | None: ...

    def rename(self, instance: VersionInstance, role: str) -> VersionInstance:
        """Record that `instance` now plays `role`; whatever played it before is forgotten."""


@runtime_checkable
class MetricsSource(Protocol):
    """Cumulative request counts and latency histogram of one version."""

    def read(self, instance: VersionInstance) -> VersionMetrics: ...


@runtime_checkable
class Database(Protocol):
    """Where the service keeps its data; migrations run against `url`.

    Backups are whole-database files in the platform's native format (a pg_dump custom
    archive, an SQLite file); a restore always goes into a fresh database, never over
    the live one, so a drill cannot damage what it checks.
    """

    @property
    def url(self) -> str: ...

    @property
    def kind(self) -> str:
        """`postgresql` or `sqlite`: the format of this database's backups."""

    def backup(self, target: Path) -> None:
        """Write a consistent copy of the whole database to `target`."""

    def restore(self, source: Path) -> AbstractContextManager[str]:
        """Restore `source` into a fresh database; yields its URL and drops it afterwards."""

    def tables(self) -> dict[str, int]:
        """The service's tables and their row counts."""


class Traffic(Protocol):
    """Whatever sends requests during a canary: k6 locally, real users on AWS."""

    def check_running(self) -> None: ...

    def __enter__(self) -> Traffic: ...

    def __exit__(self, *exc: object) -> None: ...


class Platform(Protocol):
    """Everything a release touches on one environment, behind the seams above."""

    config: EnvironmentConfig
    router: TrafficRouter
    services: ServiceRunner
    metrics: MetricsSource
    database: Database

    def preflight(self) -> None:
        """Raise MissingBinaryError (or similar) before a release changes anything."""

    def up(self) -> object: ...

    def canary_traffic(self, release_id: str) -> Traffic: ...

    def end_canary_traffic(self) -> None:
        """Stop canary traffic a killed release left behind (nothing to do where it is users')."""
