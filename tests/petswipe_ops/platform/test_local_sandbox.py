"""The local platform for real: the reference service, HAProxy and its runtime socket."""

from __future__ import annotations

import socket
from collections import Counter

import pytest

from petswipe_ops import http_client
from petswipe_ops.config import load_environment
from petswipe_ops.errors import MetricsUnavailable, MissingBinaryError, SandboxError
from petswipe_ops.platform.local.haproxy import render_config
from petswipe_ops.platform.local.prometheus import PrometheusScraper
from petswipe_ops.platform.local.sandbox import LocalSandbox
from petswipe_ops.platform.local.services import alive
from petswipe_ops.platform.seams import VersionInstance


@pytest.fixture
def sandbox(make_project):
    project = make_project()
    box = LocalSandbox(load_environment("local", project.root))
    box.up()
    return box


def _versions_served(sandbox: LocalSandbox, requests: int = 200) -> Counter:
    with http_client.client(base_url=sandbox.router_url, timeout=5) as client:
        return Counter(client.get("/version").json()["version"] for _ in range(requests))


def test_up_serves_the_stable_version_through_haproxy_and_is_idempotent(sandbox):
    first = sandbox.status()
    assert first.router_running and first.weights.model_dump() == {"stable": 100, "candidate": 0}
    assert _versions_served(sandbox, 20) == Counter({"1.0.0": 20})
    again = sandbox.up()
    assert [v.handle for v in again.versions] == [v.handle for v in first.versions]


def test_weights_move_live_through_the_runtime_socket(sandbox):
    candidate = sandbox.services.start("2.0.0", "candidate", {})
    sandbox.router.attach_candidate(candidate)
    pid_before = sandbox._router_pid()

    assert sandbox.router.set_candidate_weight(10).model_dump() == {"stable": 90, "candidate": 10}
    served = _versions_served(sandbox)
    assert 18 <= served["2.0.0"] <= 22, f"a 10 % canary got {served['2.0.0']} of 200 requests"

    assert sandbox.router.set_candidate_weight(50).model_dump() == {"stable": 50, "candidate": 50}
    served = _versions_served(sandbox)
    assert 95 <= served["2.0.0"] <= 105, f"a 50 % canary got {served['2.0.0']} of 200 requests"

    sandbox.router.detach_candidate()
    assert sandbox.router.runtime.weight("candidate") == 0
    assert _versions_served(sandbox, 50) == Counter({"1.0.0": 50})
    assert sandbox._router_pid() == pid_before, "weights change without a reload"


def test_down_leaves_no_process_behind(sandbox):
    candidate = sandbox.services.start("2.0.0", "candidate", {})
    pids = [int(v.handle) for v in sandbox.services.running()] + [sandbox._router_pid()]
    assert len(pids) == 3 and all(alive(p) for p in pids)

    sandbox.down()
    assert not any(alive(p) for p in pids)
    assert not sandbox.socket_path.exists()
    status = sandbox.status()
    assert not status.router_running and status.versions == []
    assert candidate.handle not in {v.handle for v in status.versions}


def test_a_candidate_that_cannot_start_is_reported_with_its_log(sandbox):
    with pytest.raises(SandboxError, match="exited during start-up"):
        sandbox.services.start("2.0.0", "candidate", {"PETSWIPE_FAULT_ERROR_RATE": "lots"})
    assert [v.role for v in sandbox.services.running()] == ["stable"]


def test_missing_haproxy_is_one_sentence(make_project, monkeypatch):
    project = make_project()
    monkeypatch.setenv("PETSWIPE_HAPROXY_BIN", str(project.root / "no-haproxy"))
    with pytest.raises(MissingBinaryError, match=r"install it with `apt-get install haproxy`"):
        LocalSandbox(load_environment("local", project.root)).up()


def test_config_binds_everything_to_loopback(tmp_path):
    text = render_config(
        router_port=1,
        stable_port=2,
        candidate_port=3,
        socket_path=tmp_path / "s.sock",
        health_path="/health",
        health_interval_s=2,
    )
    assert "bind 127.0.0.1:1" in text
    assert "server stable 127.0.0.1:2 weight 100" in text
    assert "server candidate 127.0.0.1:3 weight 0 disabled" in text
    binds = [line.split()[1] for line in text.splitlines() if line.strip().startswith("bind")]
    assert binds == ["127.0.0.1:1"]


def test_a_restarted_sandbox_runs_the_last_promoted_version(sandbox):
    from petswipe_ops.record import Outcome, ReleaseLedger

    ledger = ReleaseLedger(sandbox.run_dir / "releases")
    record = ledger.create("local", "1.7.0", "none")
    ledger.finish(record.release_id, Outcome.PROMOTED, "promoted")
    rolled_back = ledger.create("local", "1.8.0", "none")
    ledger.finish(rolled_back.release_id, Outcome.ROLLED_BACK, "rolled back")

    sandbox.down()
    status = sandbox.up()
    assert [(v.role, v.version) for v in status.versions] == [("stable", "1.7.0")]


def test_up_restarts_a_dead_stable_version_and_points_the_router_at_it(sandbox):
    first = sandbox.services.instance("stable")
    sandbox.services.stop(first)
    squatter = sandbox.services.start("0.9.0", "candidate", {})
    assert squatter.endpoint == first.endpoint, "the squatter takes the old stable port"

    sandbox.up()
    sandbox.services.stop(squatter)
    stable = sandbox.services.instance("stable")
    assert stable.endpoint != first.endpoint
    assert stable.endpoint.endswith(":" + sandbox.router.runtime.server_state("stable")["srv_port"])
    assert _versions_served(sandbox, 10) == Counter({"1.0.0": 10})


def test_an_unreachable_metrics_endpoint_is_metrics_unavailable():
    """The canary engine forgives MetricsUnavailable a few times in a row, so the
    scraper must raise exactly that, naming the version and the address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    instance = VersionInstance(
        version="9.9.9", role="candidate", endpoint=f"http://127.0.0.1:{port}", handle=""
    )
    with pytest.raises(MetricsUnavailable, match=rf"version 9\.9\.9 at http://127\.0\.0\.1:{port}"):
        PrometheusScraper(timeout=1).read(instance)
