"""The slot a release holds in Prefect's global concurrency limit `release-<env>`.

The limit is shared by every worker and machine that talks to one Prefect server, and
it stays held while a release is paused for approval. It is the only Prefect limit on
releases: a deployment `concurrency_limit` would be freed when the run pauses, and the
paused run crashed when its engine next renews the revoked lease
(`petswipe_ops.deployment_spec`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.responses import GlobalConcurrencyLimitResponse
from prefect.concurrency.sync import concurrency
from prefect.context import FlowRunContext
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from petswipe_ops.config import CollisionStrategy, EnvironmentConfig
from petswipe_ops.errors import OpsError
from petswipe_ops.locks import ReleaseInProgress

LEASE_SECONDS = 60
"""The slot's lease, renewed every 45 s while the release runs or waits for approval: the
shortest Prefect allows, so a release killed outright frees its environment about a minute
later (the server repossesses expired leases every 15 s)."""


class ReleasesFrozen(OpsError):
    """An operator set the environment's release limit to 0."""


def limit_name(environment: str) -> str:
    return f"release-{environment}"


@contextmanager
def release_slot(config: EnvironmentConfig) -> Iterator[None]:
    """Hold `release-<env>` for the whole release: wait for it (enqueue) or refuse
    (cancel-new) when another release has it, naming that release.

    Whether the slot is taken is read first, and the slot is then taken without a timeout:
    an acquisition that times out just as the slot frees can be granted on the server
    with its lease lost, which would hold the environment until the lease expires.
    """
    name = limit_name(config.environment)
    limit = _limit(name)
    if limit.limit == 0:
        raise ReleasesFrozen(
            f"releases to '{config.environment}' are frozen: the global concurrency limit "
            f"{name} is 0; allow them with `prefect gcl update {name} --limit 1`."
        )
    if limit.active_slots >= limit.limit:
        holder = _active_release(config.environment)
        if holder is None:
            _free_stale_slots(name)
        elif config.release.collision_strategy is CollisionStrategy.CANCEL_NEW:
            raise ReleaseInProgress.held_by(config.environment, holder)
        else:
            get_run_logger().info("waiting for release %s to finish", holder)
    with concurrency(name, occupy=1, lease_duration=LEASE_SECONDS, strict=True):
        yield


def _free_stale_slots(name: str) -> None:
    """Give back slots no release holds: a run killed outright, or a server restarted
    while a release ran (Prefect keeps leases in the server's memory), leaves its slot
    taken for good."""
    get_run_logger().warning("%s was taken with no release in progress; freeing it", name)
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active_slots=0))


def _limit(name: str) -> GlobalConcurrencyLimitResponse:
    """The limit, created with one slot when missing; an existing one is left as an
    operator set it (0 freezes releases)."""
    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with suppress(ObjectAlreadyExists):
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1)
                )
            limit = client.read_global_concurrency_limit_by_name(name)
    return limit


def _active_release(environment: str) -> str | None:
    """Another running or paused release of `environment`, as its run name and id."""
    context = FlowRunContext.get()
    current = context.flow_run.id if context and context.flow_run else None
    prefixes = (f"release-{environment}-", f"canary-{environment}-")
    active = FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PAUSED])
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=active)), limit=50
        )
    for run in runs:
        if run.id != current and run.name.startswith(prefixes):
            return f"{run.name} (flow run {run.id})"
    return None
