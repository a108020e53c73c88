"""A release that waits for approval across renewals of its `release-local` lease (60 s,
renewed every 45 s), through a real server and two process workers: it stays paused,
keeps the slot, and a second release queued behind it runs once it is done. A file of its
own so it runs beside the other deployment tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.integration

PAST_TWO_RENEWALS_S = 100


def test_a_release_paused_past_lease_renewals_is_approved_and_the_queued_one_follows(deployed):
    first = deployed.run_deployment(
        "release/local", {"environment": "local", "version": "1.7.0", "auto_approve": False}
    )
    paused_at = datetime.fromisoformat(deployed.paused(first)["state"]["timestamp"])
    queued = deployed.run_deployment(
        "release/local", {"environment": "local", "version": "1.8.0", "auto_approve": True}
    )
    waited = (datetime.now(UTC) - paused_at).total_seconds()
    time.sleep(max(0.0, PAST_TWO_RENEWALS_S - waited))

    assert deployed.flow_run(first)["state_type"] == "PAUSED"
    assert deployed.flow_run(queued)["state_type"] == "RUNNING", "waiting for release-local"
    answer = deployed.approve(first, "REASON=CHG-44")
    assert answer.returncode == 0, answer.stdout + answer.stderr

    first_run, queued_run = deployed.finished(first), deployed.finished(queued)
    assert first_run["state_type"] == "COMPLETED", first_run["state"]["message"]
    assert queued_run["state_type"] == "COMPLETED", queued_run["state"]["message"]
    assert deployed.release_work(first)[1] <= deployed.release_work(queued)[0]
