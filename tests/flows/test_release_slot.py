"""The `release-<env>` global concurrency limit a release holds, on Prefect's test harness
(a real temporary server): a second release waits (enqueue) or is refused (cancel-new)
naming the holder; another environment is not held up."""

from __future__ import annotations

import threading
import time

import pytest
from prefect import flow

from petswipe_ops.config import CollisionStrategy, ReleasePolicy, load_environment
from petswipe_ops.locks import ReleaseInProgress
from petswipe_ops.paths import project_root
from tasks.concurrency import ReleasesFrozen, release_slot

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

HOLD_SECONDS = 4.0
EVENTS: list[tuple[str, str, float]] = []


def _config(environment: str, strategy: CollisionStrategy = CollisionStrategy.ENQUEUE):
    config = load_environment("local", project_root())
    policy = ReleasePolicy(collision_strategy=strategy)
    return config.model_copy(update={"environment": environment, "release": policy})


@flow(flow_run_name="release-{environment}-{version}")
def slot_user(environment: str, version: str, strategy: str) -> None:
    with release_slot(_config(environment, CollisionStrategy(strategy))):
        EVENTS.append(("in", version, time.monotonic()))
        if version == "1.0.0":
            time.sleep(HOLD_SECONDS)
        EVENTS.append(("out", version, time.monotonic()))


def _in_background(environment: str, version: str, strategy: str):
    thread = threading.Thread(
        target=slot_user,
        kwargs={"environment": environment, "version": version, "strategy": strategy},
        daemon=True,
    )
    thread.start()
    return thread


def _wait_for(event: tuple[str, str]) -> None:
    deadline = time.monotonic() + 60
    while not any(entry[:2] == event for entry in EVENTS):
        assert time.monotonic() < deadline, f"{event} never happened: {EVENTS}"
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _fresh_events():
    EVENTS.clear()


def test_enqueue_waits_for_the_holder_and_other_environments_do_not():
    holder = _in_background("slot-a", "1.0.0", "enqueue")
    _wait_for(("in", "1.0.0"))
    waiter = _in_background("slot-a", "1.1.0", "enqueue")
    elsewhere = _in_background("slot-b", "1.2.0", "enqueue")
    for thread in (holder, waiter, elsewhere):
        thread.join(timeout=120)

    times = {(kind, version): at for kind, version, at in EVENTS}
    assert times[("in", "1.1.0")] >= times[("out", "1.0.0")], EVENTS
    assert times[("out", "1.2.0")] < times[("out", "1.0.0")], "slot-b did not wait for slot-a"


def test_cancel_new_is_refused_naming_the_holder():
    holder = _in_background("slot-c", "1.0.0", "cancel-new")
    _wait_for(("in", "1.0.0"))
    with pytest.raises(ReleaseInProgress) as refused:
        slot_user(environment="slot-c", version="1.1.0", strategy="cancel-new")
    holder.join(timeout=120)

    assert str(refused.value).startswith(
        "environment 'slot-c' is busy with release release-slot-c-1.0.0 (flow run "
    )
    assert str(refused.value).endswith("); wait for it to finish.")
    assert ("in", "1.1.0") not in [entry[:2] for entry in EVENTS]


def _set_limit(name: str, **fields) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(**fields))


def test_a_slot_left_taken_by_a_vanished_run_is_freed():
    slot_user(environment="slot-d", version="1.1.0", strategy="cancel-new")
    _set_limit("release-slot-d", active_slots=1)

    slot_user(environment="slot-d", version="1.2.0", strategy="cancel-new")
    assert ("out", "1.2.0") in [entry[:2] for entry in EVENTS]


def test_a_limit_of_zero_freezes_releases():
    slot_user(environment="slot-e", version="1.1.0", strategy="enqueue")
    _set_limit("release-slot-e", limit=0)

    with pytest.raises(ReleasesFrozen, match="releases to 'slot-e' are frozen"):
        slot_user(environment="slot-e", version="1.2.0", strategy="enqueue")
    assert ("in", "1.2.0") not in [entry[:2] for entry in EVENTS]


def test_a_holder_whose_process_is_gone_is_marked_crashed_and_the_next_release_goes_on():
    """The wedge: a release killed outright stays Running in Prefect and its slot taken.
    The next release sees the holder's pid is dead on this host, crashes it, goes on."""
    import socket
    import subprocess

    from prefect.client.orchestration import get_client
    from prefect.states import Running

    from tasks.interruption import HOST_LABEL, PID_LABEL

    dead = subprocess.Popen(["true"])
    dead.wait()
    slot_user(environment="slot-f", version="1.0.1", strategy="cancel-new")
    with get_client(sync_client=True) as client:
        killed = client.create_flow_run(slot_user, name="release-slot-f-1.1.0", state=Running())
        client.update_flow_run_labels(
            killed.id, {PID_LABEL: str(dead.pid), HOST_LABEL: socket.gethostname()}
        )
    _set_limit("release-slot-f", active_slots=1)

    slot_user(environment="slot-f", version="1.2.0", strategy="cancel-new")

    assert ("out", "1.2.0") in [entry[:2] for entry in EVENTS]
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(killed.id).state.is_crashed()
