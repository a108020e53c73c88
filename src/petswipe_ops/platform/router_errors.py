"""The router's own failures for a version, folded into that version's metrics.

A request the router could not deliver (connection refused, reset, timed out) reaches
users as a 5xx that the version never counts, so a candidate the router cannot reach
would look idle, not failing. Any platform whose router counts such failures per
version plugs its counter in here: HAProxy's per-server `econ` + `eresp` locally, the
target group's `TargetConnectionErrorCount` on an ALB.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict

from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.metrics import VersionMetrics
from petswipe_ops.platform.seams import MetricsSource, VersionInstance

STALE_READS = 4
"""Reads in a row in which the router tried a dead version no more, after which its
frozen read stops standing in and the engine's failed-read limit takes over."""


class RouterCounts(BaseModel):
    """What the router counted for one version's server, cumulative."""

    model_config = ConfigDict(frozen=True)

    errors: int
    """5xx the router answered itself: the request never got a response from the version."""
    attempts: int
    """Failed attempts to reach the version, retried ones included (errors <= attempts)."""


class RouterErrorCounter(Protocol):
    def router_counts(self, instance: VersionInstance) -> RouterCounts: ...


class WithRouterErrors:
    """MetricsSource: the version's own metrics plus the router's failures for it.

    Only failures the version never saw are added, so nothing it answered itself is
    counted twice; both counts stay cumulative and reset apart (VersionMetrics.__sub__).

    A version that cannot be read (its process died) while the router keeps failing to
    reach it is judged on the router's 5xx: its last good read, frozen, plus the
    router's count. Once the router has not tried it for `STALE_READS` reads in a row
    (health checks took it out), the read fails as before, so a version nobody is
    routed to still ends the step through the engine's failed-read limit.
    """

    def __init__(self, metrics: MetricsSource, counter: RouterErrorCounter) -> None:
        self.metrics, self.counter = metrics, counter
        self.own: dict[tuple[str, str], VersionMetrics] = {}
        self.frozen_at: dict[tuple[str, str], int] = {}
        self.attempts: dict[tuple[str, str], int] = {}
        self.stale: dict[tuple[str, str], int] = {}

    def read(self, instance: VersionInstance) -> VersionMetrics:
        key = (instance.role, instance.endpoint)
        failure: MetricsUnavailable | None = None
        try:
            own = self.metrics.read(instance)
        except MetricsUnavailable as exc:
            failure = exc
        routed = self.counter.router_counts(instance)
        if failure is None:
            self.own[key], self.frozen_at[key], self.stale[key] = own, routed.attempts, 0
        elif key in self.own and self._still_routed(key, routed.attempts):
            own = self.own[key]
        else:
            raise failure
        self.attempts[key] = routed.attempts
        return own.with_router_errors(routed.errors)

    def _still_routed(self, key: tuple[str, str], attempts: int) -> bool:
        """Has the router failed to reach the version since its last good read, lately?"""
        if attempts <= self.frozen_at[key]:
            return False
        self.stale[key] = 0 if attempts > self.attempts[key] else self.stale[key] + 1
        return self.stale[key] <= STALE_READS
