"""The router's own failures for a version, folded into that version's metrics.

A request the router could not deliver (connection refused, reset, timed out) reaches
users as a 5xx that the version never counts, so a candidate the router cannot reach
would look idle, not failing. Any platform whose router counts such failures per
version plugs its counter in here: HAProxy's per-server `econ` + `eresp` locally, the
target group's `TargetConnectionErrorCount` on an ALB.
"""

from __future__ import annotations

from typing import Protocol

from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.metrics import VersionMetrics
from petswipe_ops.platform.seams import MetricsSource, VersionInstance


class RouterErrorCounter(Protocol):
    """Cumulative count of 5xx the router answered itself for a version's server."""

    def router_errors(self, instance: VersionInstance) -> int: ...


class WithRouterErrors:
    """MetricsSource: the version's own metrics plus the router's failures for it.

    Only failures the version never saw are added, so nothing it answered itself is
    counted twice; both counts stay cumulative and reset apart (VersionMetrics.__sub__).

    A version that cannot be read (its process died) while the router keeps answering
    5xx for it is judged on those: its last read, frozen, plus the router's count. When
    the router's count stands still too, the read fails as before, so a version nobody
    is routed to still ends the step through the engine's failed-read limit.
    """

    def __init__(self, metrics: MetricsSource, counter: RouterErrorCounter) -> None:
        self.metrics, self.counter = metrics, counter
        self.own: dict[tuple[str, str], VersionMetrics] = {}
        self.routed: dict[tuple[str, str], int] = {}

    def read(self, instance: VersionInstance) -> VersionMetrics:
        key = (instance.role, instance.endpoint)
        failure: MetricsUnavailable | None = None
        try:
            own = self.metrics.read(instance)
        except MetricsUnavailable as exc:
            failure = exc
        routed = self.counter.router_errors(instance)
        if failure is not None:
            if key not in self.own or routed <= self.routed[key]:
                raise failure
            own = self.own[key]
        self.own[key], self.routed[key] = own, routed
        return own.with_router_errors(routed)
