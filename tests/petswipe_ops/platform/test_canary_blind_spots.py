"""The canary gate on the real local sandbox: HAProxy, the reference service, k6.

One sandbox for the module, its service holding an API key as users' requests need it:
the stable accepts the key the canary traffic sends, a candidate that rejects it (or
answers 401 by injected fault) is rolled back at the first step, and the 502s HAProxy
answers itself for a candidate that died count as the candidate's errors.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from petswipe_ops import http_client
from petswipe_ops.canary import run_step
from petswipe_ops.chaos import relax_latency_slo
from petswipe_ops.config import load_environment
from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.gates import Verdict, build_gate
from petswipe_ops.platform.local.haproxy import HaproxyServerErrors
from petswipe_ops.platform.local.sandbox import LocalSandbox
from petswipe_ops.platform.local.services import alive
from petswipe_ops.platform.router_errors import WithRouterErrors
from petswipe_ops.release import Fault
from tests.conftest import Project, _stop_sandboxes

pytestmark = pytest.mark.integration

API_KEY = "users-key-5d21"
TRAFFIC_RATE = 100
"""Requests per second through HAProxy: 10 a second reach a 10 % candidate, plenty for
these verdicts, and light on a shared two-core host."""


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    project = Project(tmp_path_factory.mktemp("blind-spots") / "root")
    project.edit("local", lambda data: data["canary"].update(traffic_rate=TRAFFIC_RATE))
    project.edit("local", relax_latency_slo)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in project.env().items():
            patch.setenv(key, value)
        patch.setenv("PETSWIPE_API_KEY", API_KEY)
        box = LocalSandbox(load_environment("local", project.root))
        try:
            box.up()
            yield box
        finally:
            _stop_sandboxes(project)


@pytest.fixture
def candidate_of(sandbox):
    """Start a candidate attached at weight 0 and wait until HAProxy's health checks
    have it UP (a killed one before it left the server DOWN); stop it afterwards."""
    started = []

    def start(version: str, env: dict[str, str]):
        candidate = sandbox.services.start(version, "candidate", env)
        sandbox.router.attach_candidate(candidate)
        started.append(candidate)
        deadline = time.monotonic() + 10
        while not sandbox.router.runtime.server_stats()["candidate"]["status"].startswith("UP"):
            assert time.monotonic() < deadline, "HAProxy never saw the candidate healthy"
            time.sleep(0.1)
        return candidate

    yield start
    sandbox.router.detach_candidate()
    for candidate in started:
        sandbox.services.stop(candidate)


def canary_step(
    sandbox: LocalSandbox, candidate, release_id: str, on_observation=None, weight=None
):
    config = sandbox.config
    metrics = WithRouterErrors(sandbox.metrics, HaproxyServerErrors(sandbox.router.runtime))
    with sandbox.canary_traffic(release_id) as traffic:
        return run_step(
            weight=weight or config.canary.steps[0],
            router=sandbox.router,
            metrics=metrics,
            candidate=candidate,
            stable=sandbox.services.instance("stable"),
            gate=build_gate(config.canary),
            canary=config.canary,
            slo=config.slo,
            traffic_alive=traffic.check_running,
            on_observation=on_observation or (lambda decision, elapsed: None),
        )


@pytest.mark.parametrize(
    "env",
    [{"PETSWIPE_API_KEY": "a-rotated-key"}, Fault.parse("client_error_rate=1").as_env()],
    ids=["rejects the users' key", "client_error_rate=1"],
)
def test_a_candidate_answering_401_to_the_canary_is_rolled_back_at_the_first_step(
    sandbox, candidate_of, env
):
    candidate = candidate_of("2.0.0", env)
    result = canary_step(sandbox, candidate, "blind-401")

    assert result.verdict is Verdict.ROLLBACK, result.decision.reason
    assert result.weight == 10 and not result.timed_out
    assert result.decision.reason.startswith("client errors:"), result.decision.reason
    evidence = result.decision.evidence
    assert evidence["candidate"]["client_errors"] == evidence["candidate"]["requests"] > 0
    assert evidence["stable"]["requests"] > 0
    assert evidence["stable"]["client_errors"] == 0, "the canary sends the key users send"


def _kill(candidate) -> None:
    pid = int(candidate.handle)
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_candidate_killed_mid_step_ends_the_step_with_haproxys_errors_as_its_own(
    sandbox, candidate_of
):
    """Once it served a few requests at 50 % the candidate dies. The requests it was still
    answering get HAProxy's 502 (HAProxy retries only refused connections), and the gate
    counts them as its errors although its /metrics no longer answer: the step rolls back
    on its error rate. When no request happened to be in flight, users saw no error
    (the next test) and the step ends at the failed-read limit instead. Either way the step
    ends within seconds of the kill, and never with a promotion."""
    candidate = candidate_of("2.1.0", {})
    killed = []

    def kill_once_it_served(decision, elapsed):
        if not killed and decision.evidence["candidate"]["requests"] >= 5:
            _kill(candidate)
            killed.append(time.monotonic())

    try:
        result = canary_step(sandbox, candidate, "blind-killed", kill_once_it_served, weight=50)
    except MetricsUnavailable as exc:
        assert killed and "times in a row (canary.metric_error_limit is 4)" in str(exc)
        assert time.monotonic() - killed[0] < 30
        return
    assert killed and result.verdict is Verdict.ROLLBACK, result.decision.reason
    assert result.decision.reason.startswith("error rate:"), result.decision.reason
    seen = result.decision.evidence["candidate"]
    assert seen["errors"] == seen["router_errors"] >= 1, seen
    assert seen["requests"] > seen["errors"], "the requests it served before count as well"


def test_a_killed_candidates_requests_go_to_the_stable_and_its_failed_tries_are_counted(
    sandbox, candidate_of
):
    """HAProxy sends a request the dead candidate refused to the stable (`retry-on
    conn-failure`, `option redispatch`), so users see no error; the candidate's refused
    tries still show in its counters, which the gate reads."""
    candidate = candidate_of("2.2.0", {})
    sandbox.router.set_candidate_weight(50)
    runtime = sandbox.router.runtime
    counter = HaproxyServerErrors(runtime)
    stable = sandbox.services.instance("stable")
    before = counter.router_counts(candidate).attempts, counter.router_counts(stable).errors

    with http_client.client(base_url=sandbox.router_url, headers={"X-API-Key": API_KEY}) as client:
        seen = [client.get("/version", timeout=5).json()["version"] for _ in range(40)]
        assert "2.2.0" in seen, "HAProxy sends the candidate its half before it dies"
        _kill(candidate)
        codes = [client.get("/api/pets/1", timeout=5).status_code for _ in range(40)]

    row = runtime.server_stats()["candidate"]
    assert set(codes) == {200}, (codes, row["status"], row["check_status"])
    assert counter.router_counts(candidate).attempts > before[0], row
    assert counter.router_counts(stable).errors == before[1], "the stable's server failed nothing"
