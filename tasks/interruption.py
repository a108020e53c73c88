"""How a release learns it is being stopped, and what Prefect's hooks do about it.

Every way a release can be stopped ends in the release run's one idempotent `abort`:
the flow catches SIGINT (KeyboardInterrupt), SIGTERM and a worker's cancel (Prefect's
TerminationSignal) around its stages; an in-process run polls its own state for a cancel
from the UI or CLI; and the crash and cancellation hooks converge the environment from
the record when the run's process is gone before it could.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import TerminationSignal

from petswipe_ops import pipeline, reconcile
from petswipe_ops.config import load_environment
from petswipe_ops.errors import OpsError, ReleaseCancelled
from petswipe_ops.liveness import this_host
from petswipe_ops.paths import project_root
from petswipe_ops.platform import open_platform
from petswipe_ops.record import Outcome

CHECK_EVERY_SECONDS = 2.0
PID_LABEL = "petswipe.pid"
HOST_LABEL = "petswipe.host"
_last_check = 0.0


def current_flow_run_id() -> str | None:
    context = FlowRunContext.get()
    return str(context.flow_run.id) if context and context.flow_run else None


def label_run() -> None:
    """Mark the run with the host and pid that execute it, so a waiting release can tell
    a live holder of the environment from one whose process is gone."""
    run_id = current_flow_run_id()
    if run_id is None:
        return
    with get_client(sync_client=True) as client:
        client.update_flow_run_labels(
            run_id, {PID_LABEL: str(os.getpid()), HOST_LABEL: this_host()}
        )


def raise_if_cancelled() -> None:
    """Raise ReleaseCancelled when this run was cancelled; asks the server every 2 s at most."""
    global _last_check
    now = time.monotonic()
    run_id = current_flow_run_id()
    if run_id is None or now - _last_check < CHECK_EVERY_SECONDS:
        return
    _last_check = now
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    if state is not None and (state.is_cancelling() or state.is_cancelled()):
        raise ReleaseCancelled("cancelled from the Prefect UI or CLI")


def cause_of(exc: BaseException) -> str:
    """The sentence a record keeps for why the release stopped."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted by SIGINT (Ctrl-C)"
    if isinstance(exc, TerminationSignal):
        from prefect._internal.control_listener import get_intent

        if get_intent() == "cancel":
            return "cancelled from the Prefect UI or CLI"
        return f"interrupted by {signal.Signals(exc.signal).name}"
    if isinstance(exc, OpsError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def converge_after(flow: Any, flow_run: Any, state: Any) -> None:
    """on_crashed / on_cancellation: finish the run's record if its process could not.

    In the run's own process the record is already finished and this does nothing; in a
    runner that cancelled a run it killed, it converges the environment and finishes it.
    """
    request = flow_run.parameters.get("request") or {}
    environment = request.get("environment") if isinstance(request, dict) else None
    environment = environment or getattr(request, "environment", None)
    if not environment:
        return
    logger = get_run_logger()
    config = load_environment(environment, project_root())
    book = pipeline.ledger(environment)
    record = book.find_by_flow_run(str(flow_run.id))
    if record is None or record.outcome is not Outcome.RUNNING:
        return
    try:
        with pipeline.release_lock(config, f"reconcile of {record.release_id}"):
            convergence, _ = reconcile.settle(open_platform(config), book)
    except OpsError as exc:
        logger.warning("could not converge %s now (%s); the next release will", environment, exc)
        return
    logger.info("%s: %s", record.release_id, convergence.sentence())
