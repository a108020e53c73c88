"""Converge an environment from what the platform really does, never from what a record says.

A release can be killed at any instant. Whatever it left, the router is read back (its
weights and which process each side sends to) and brought to stable 100 % / candidate
0 % with the stable side on a live version. The process the stable side serves users
from is never stopped: if finalize had already switched it to the candidate, the
candidate has passed every gate and the release is completed instead of undone.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from petswipe_ops.errors import OpsError
from petswipe_ops.platform.seams import Platform, RouterState, VersionInstance, Weights
from petswipe_ops.record import Outcome, ReleaseLedger, ReleaseRecord


class Direction(StrEnum):
    ROLLED_BACK = "rolled back"
    ROLLED_FORWARD = "rolled forward"
    ROUTER_DOWN = "router down"


class Convergence(BaseModel):
    """What converging did, read back from the platform afterwards."""

    direction: Direction
    stable: VersionInstance | None
    stopped: list[VersionInstance] = Field(default_factory=list)
    weights: Weights | None = None

    def sentence(self) -> str:
        stopped = ", ".join(f"{i.role} {i.version}" for i in self.stopped) or "nothing"
        if self.direction is Direction.ROUTER_DOWN:
            return f"the router is not running; stopped {stopped}"
        serving = f"{self.stable.version}" if self.stable else "no version"
        weights = self.weights or Weights(stable=100, candidate=0)
        return (
            f"{self.direction.value}: router at stable {weights.stable} / candidate "
            f"{weights.candidate} on {serving}; stopped {stopped}"
        )


def converge(platform: Platform) -> Convergence:
    """Stable 100 / candidate 0, the stable side on a live version, nothing else running."""
    platform.end_canary_traffic()
    services = platform.services
    running = services.running()
    try:
        state = platform.router.state()
    except OpsError:
        stopped = [i for i in running if i.role != "stable"]
        for instance in stopped:
            services.stop(instance)
        return Convergence(direction=Direction.ROUTER_DOWN, stable=None, stopped=stopped)
    serving = _serving(platform, state, running)
    if serving is not None and serving.endpoint != state.stable_target:
        platform.router.point_stable(serving)
    platform.router.detach_candidate()
    stopped = [i for i in running if serving is None or i.handle != serving.handle]
    for instance in stopped:
        services.stop(instance)
    direction = Direction.ROLLED_BACK
    if serving is not None and serving.role != "stable":
        serving = services.rename(serving, "stable")
        direction = Direction.ROLLED_FORWARD
    return Convergence(
        direction=direction,
        stable=serving,
        stopped=stopped,
        weights=platform.router.get_weights(),
    )


def _serving(
    platform: Platform, state: RouterState, running: list[VersionInstance]
) -> VersionInstance | None:
    """The live version the stable side should keep: the one it points at, when healthy,
    else a healthy stable version. When none of those answers its health check, the one it
    points at (or a running stable) stays: a slow health check on a loaded host is no reason
    to stop what serves users, nor to promote a candidate the gates never finished judging
    (on AWS that would roll the stable service onto it). A candidate the stable side does
    not point at serves only when no stable version runs at all: better than nothing."""
    by_endpoint = {i.endpoint: i for i in running}
    pointed = by_endpoint.get(state.stable_target or "")
    keep = [pointed] if pointed else []
    keep += [i for i in running if i.role == "stable" and i is not pointed]
    healthy = next((i for i in keep if platform.services.healthy(i)), None)
    if keep:
        return healthy or keep[0]
    return next((i for i in running if platform.services.healthy(i)), None)


def finish_abandoned(
    book: ReleaseLedger, convergence: Convergence, current: str | None = None
) -> list[ReleaseRecord]:
    """Finish every unfinished record but `current`: their runs are gone, since whoever
    calls this holds the environment's lock."""
    finished = []
    for record in book.unfinished():
        if record.release_id == current:
            continue
        promoted = (
            convergence.direction is Direction.ROLLED_FORWARD
            and convergence.stable is not None
            and convergence.stable.version == record.version
        )
        gone = f"the run (pid {record.pid} on {record.host}) ended without finishing"
        outcome = Outcome.PROMOTED if promoted else Outcome.ROLLED_BACK
        if promoted:
            reason = f"{record.version} promoted to 100 %: {gone} after the router switch"
        else:
            reason = f"rolled back: {gone}; reconcile put traffic back on stable"
        weights = convergence.weights.model_dump() if convergence.weights else None
        finished.append(book.finish(record.release_id, outcome, reason, weights))
    return finished


def settle(
    platform: Platform, book: ReleaseLedger, current: str | None = None
) -> tuple[Convergence, list[ReleaseRecord]]:
    """Converge the platform, then finish the records of the runs that are gone."""
    convergence = converge(platform)
    return convergence, finish_abandoned(book, convergence, current)
