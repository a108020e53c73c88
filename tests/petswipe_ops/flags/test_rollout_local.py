"""Flag rollouts on the local sandbox: the reference service reads the versioned flag store,
users get the flag by a stable hash, and the sequential gate compares flag-on with flag-off
requests that really went through HAProxy."""

from __future__ import annotations

import random
import threading
import time

import httpx
import pytest

from petswipe_ops import http_client
from petswipe_ops.config import load_environment
from petswipe_ops.flags.analytics import AnalyticsStore, Snapshot, build_report, render_report
from petswipe_ops.flags.environment import flags_dir, metrics_for, rollout_for
from petswipe_ops.flags.rollout import Strategy
from petswipe_ops.flags.store import LocalFlagStore
from petswipe_ops.platform.local.sandbox import LocalSandbox

pytestmark = pytest.mark.integration
FLAG = "recommended-feed"


class UserTraffic:
    """GET /api/pets?user_id=<random> through the router until stopped."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.feeds: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        rng = random.Random(7)
        with http_client.client(base_url=self.base, timeout=5.0) as client:
            while not self._stop.is_set():
                user = rng.randrange(1, 100_000)
                try:
                    reply = client.get(f"/api/pets?limit=2&user_id={user}")
                except httpx.HTTPError:
                    continue
                if reply.status_code == 200:
                    self.feeds[user] = reply.json()["feed"]

    def __enter__(self) -> UserTraffic:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


CLIENT = http_client.client(timeout=5.0)


def _feed(base: str, user: int) -> str:
    """The feed a user gets; the flag's injected fault counts as its code path."""
    reply = CLIENT.get(f"{base}/api/pets?limit=1&user_id={user}").json()
    if "Injected fault on the recommended-feed code path" in reply.get("error", ""):
        return "recommended"
    return reply["feed"]


def _wait_for_share(base: str, users: range, low: float, high: float) -> float:
    """The share of `users` with the recommended feed, once the service re-read the flags."""
    deadline = time.monotonic() + 10
    while True:
        share = sum(_feed(base, u) == "recommended" for u in users) / len(users)
        if low <= share <= high or time.monotonic() > deadline:
            return share
        time.sleep(0.5)


def _project(make_project, monkeypatch, fault: str | None = None):
    project = make_project()
    project.edit(
        "local",
        lambda d: d.update(
            feature_flags={"scale": 0.005, "observe_interval_seconds": 0.3, "refresh_seconds": 0.5}
        ),
    )
    if fault:
        monkeypatch.setenv("PETSWIPE_FAULT_FLAG", fault)
    sandbox = LocalSandbox(load_environment("local", project.root))
    sandbox.up()
    return project, sandbox


def test_gradual_rollout_climbs_its_steps_and_users_keep_the_flag(make_project, monkeypatch):
    _, sandbox = _project(make_project, monkeypatch)
    rollout = rollout_for(sandbox.config)
    with UserTraffic(sandbox.router_url):
        record = rollout.enable(FLAG, Strategy.GRADUAL)
    assert record.outcome == "enabled"
    done = [s for s in record.steps if s.status == "done"]
    assert [s.percent for s in done] == [20, 40, 60, 80, 100]
    assert all(s.on_requests > 0 and s.off_requests > 0 for s in done[:-1])
    history = LocalFlagStore(flags_dir("local")).history()
    assert [v.document.percentage(FLAG) for v in history] == [20, 40, 60, 80, 100]
    users = range(1, 101)
    assert _wait_for_share(sandbox.router_url, users, 1.0, 1.0) == 1.0

    rollout.disable(FLAG)
    assert _wait_for_share(sandbox.router_url, users, 0.0, 0.0) == 0.0

    rollout.enable(FLAG, Strategy.IMMEDIATE)
    # a stored 30 % (as a resumed rollout would) reaches about 30 % of users, the same ones
    store = LocalFlagStore(flags_dir("local"))
    latest = store.latest()
    store.put(latest.document.with_rollout(FLAG, True, 30), "30 %", latest.number)
    share = _wait_for_share(sandbox.router_url, users, 0.15, 0.45)
    assert 0.15 <= share <= 0.45
    first = {u for u in users if _feed(sandbox.router_url, u) == "recommended"}
    latest = store.latest()
    store.put(latest.document.with_rollout(FLAG, True, 60), "60 %", latest.number)
    _wait_for_share(sandbox.router_url, users, 0.45, 0.75)
    second = {u for u in users if _feed(sandbox.router_url, u) == "recommended"}
    assert first <= second and len(second) > len(first)


def test_a_faulty_flag_is_turned_off_by_the_gate_with_its_reason(make_project, monkeypatch):
    _, sandbox = _project(make_project, monkeypatch, fault=f"{FLAG}:0.3")
    rollout = rollout_for(sandbox.config)
    analytics = AnalyticsStore(flags_dir("local") / "analytics")
    source = metrics_for(sandbox.config)
    analytics.add(Snapshot(flags=source.read()))
    with UserTraffic(sandbox.router_url):
        record = rollout.enable(FLAG, Strategy.GRADUAL)
    analytics.add(Snapshot(flags=source.read()))
    assert record.outcome == "disabled-by-gate"
    assert record.reason.startswith("at 20 %: ")
    assert "error" in record.reason
    latest = LocalFlagStore(flags_dir("local")).latest()
    assert latest.document.enabled(FLAG) is False
    assert "off by the gate" in latest.description
    assert _wait_for_share(sandbox.router_url, range(1, 101), 0.0, 0.0) == 0.0
    # the analytics window saw the flag's errors on the flag-on side only
    report = build_report("local", analytics, latest.document)
    figures = next(f for f in report.flags if f.flag == FLAG)
    assert figures.on.requests > 0 and figures.off.requests > figures.on.requests
    assert figures.on.error_rate > 0.1 and figures.off.error_rate == 0
    assert 0 < figures.usage < 0.5
    table = render_report(report)
    assert table.splitlines()[4].startswith("| flag | state | rollout % | usage")
    assert f"| {FLAG} | off | 0 |" in table
