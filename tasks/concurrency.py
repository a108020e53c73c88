"""The slot a release holds in Prefect's global concurrency limit `release-<env>`.

The limit is shared by every worker and machine that talks to one Prefect server, and
it stays held while a release is paused for approval (a deployment's own
`concurrency_limit` is released when its run pauses).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
from prefect.client.schemas.objects import StateType
from prefect.concurrency.sync import concurrency
from prefect.context import FlowRunContext
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from petswipe_ops.config import CollisionStrategy, EnvironmentConfig
from petswipe_ops.locks import ReleaseInProgress


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
    if _slots_taken(name):
        holder = holder_of(config.environment)
        if config.release.collision_strategy is CollisionStrategy.CANCEL_NEW:
            raise ReleaseInProgress.held_by(config.environment, holder)
        get_run_logger().info("waiting for release %s to finish", holder)
    with concurrency(name, occupy=1, strict=True):
        yield


def _slots_taken(name: str) -> bool:
    """Whether every slot of the limit is held; the limit is created with one slot when
    missing, and an existing one is left as an operator set it (0 freezes releases)."""
    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with suppress(ObjectAlreadyExists):
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1)
                )
            limit = client.read_global_concurrency_limit_by_name(name)
    return limit.active_slots >= limit.limit


def holder_of(environment: str) -> str:
    """The running or paused release of `environment`, as its run name and id."""
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
    return f"holding {limit_name(environment)}"
