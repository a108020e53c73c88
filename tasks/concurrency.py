"""The slot a release holds in Prefect's global concurrency limit `release-<env>`.

The limit is shared by every worker and machine that talks to one Prefect server, and
it stays held while a release is paused for approval. It is the only Prefect limit on
releases: a deployment `concurrency_limit` would be freed when the run pauses, and the
paused run crashed when its engine next renews the revoked lease
(`petswipe_ops.deployment_spec`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.responses import GlobalConcurrencyLimitResponse
from prefect.concurrency.sync import concurrency
from prefect.context import FlowRunContext
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.states import Crashed

from petswipe_ops.config import CollisionStrategy, EnvironmentConfig
from petswipe_ops.errors import OpsError
from petswipe_ops.liveness import gone
from petswipe_ops.locks import ReleaseInProgress
from tasks.interruption import HOST_LABEL, PID_LABEL

LEASE_SECONDS = 60
"""The slot's lease, renewed every 45 s while the release runs or waits for approval: the
shortest Prefect allows, so a release killed outright frees its environment about a minute
later (the server repossesses expired leases every 15 s)."""


class ReleasesFrozen(OpsError):
    """An operator set the environment's release limit to 0."""


def limit_name(environment: str) -> str:
    return f"release-{environment}"


WAIT_LOG_EVERY_SECONDS = 30.0
POLL_SECONDS = 3.0


@contextmanager
def release_slot(config: EnvironmentConfig) -> Iterator[None]:
    """Hold `release-<env>` for the whole release: wait for it (enqueue) or refuse
    (cancel-new) when another release has it, naming that release.

    A holder whose process is gone (a dead pid on this host) is marked crashed and its
    slot is given back, so one killed release cannot wedge the environment. Whether the
    slot is taken is read first, and the slot is then taken without a timeout: an
    acquisition that times out just as the slot frees can be granted on the server with
    its lease lost, which would hold the environment until the lease expires.
    """
    name = limit_name(config.environment)
    logger = get_run_logger()
    waited_since = time.monotonic()
    logged_at = -WAIT_LOG_EVERY_SECONDS
    while True:
        limit = _limit(name)
        if limit.limit == 0:
            raise ReleasesFrozen(
                f"releases to '{config.environment}' are frozen: the global concurrency limit "
                f"{name} is 0; allow them with `prefect gcl update {name} --limit 1`."
            )
        if limit.active_slots < limit.limit:
            break
        holder = _active_release(config.environment)
        if holder is None:
            _free_stale_slots(name)
            break
        if _process_gone(holder):
            _mark_crashed(holder)
            _free_stale_slots(name)
            break
        if config.release.collision_strategy is CollisionStrategy.CANCEL_NEW:
            raise ReleaseInProgress.held_by(config.environment, _describe(holder))
        waited = time.monotonic() - waited_since
        if waited - logged_at >= WAIT_LOG_EVERY_SECONDS:
            logged_at = waited
            logger.info(
                "waiting for release %s to finish (%.0f s so far); cancel it with "
                "`prefect flow-run cancel %s` or from its page in the Prefect UI",
                _describe(holder),
                waited,
                holder.id,
            )
        time.sleep(POLL_SECONDS)
    with concurrency(name, occupy=1, lease_duration=LEASE_SECONDS, strict=True):
        yield


def _describe(run: FlowRun) -> str:
    return f"{run.name} (flow run {run.id})"


def _process_gone(run: FlowRun) -> bool:
    """The run's labels name this host and a pid that no longer runs."""
    labels = run.labels or {}
    return gone(labels.get(HOST_LABEL), labels.get(PID_LABEL))


def _mark_crashed(run: FlowRun) -> None:
    get_run_logger().warning(
        "release %s holds the environment but its process is gone; marking it crashed",
        _describe(run),
    )
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(
            run.id,
            Crashed(message="the release's process is gone (found by the next release)"),
            force=True,
        )


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


def _active_release(environment: str) -> FlowRun | None:
    """Another running or paused release of `environment`."""
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
            return run
    return None
