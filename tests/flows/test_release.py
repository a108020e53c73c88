"""The release flow on the real sandbox: HAProxy, the reference service, k6, terraform,
rego and SQLite, run through Prefect's test harness (a real temporary Prefect server)."""

from __future__ import annotations

import pytest

from petswipe_ops import http_client, pipeline
from petswipe_ops.chaos import relax_latency_slo
from petswipe_ops.config import load_environment
from petswipe_ops.platform.local.haproxy import HaproxyRuntime
from petswipe_ops.platform.local.sandbox import LocalSandbox
from petswipe_ops.platform.local.services import alive
from petswipe_ops.record import Outcome
from petswipe_ops.release import ReleaseRequest
from petswipe_ops.release_run import ReleaseNotPromoted
from petswipe_ops.report import render_markdown

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


@pytest.fixture
def make_project(make_project):
    """Projects whose latency SLOs a loaded host cannot breach: these tests follow the flow's
    stages, errors and answers; the latency gates are judged in tests/petswipe_ops/gates and
    by the latency-fault release in tests/petswipe_cli/test_main.py."""

    def make():
        project = make_project()
        project.edit("local", relax_latency_slo)
        return project

    return make


def _sandbox(project, environment="local") -> LocalSandbox:
    return LocalSandbox(load_environment(environment, project.root))


def _release(environment="local", **fields):
    from flows.release import release

    return release(request=ReleaseRequest(environment=environment, auto_approve=True, **fields))


def _last_record(environment="local"):
    return pipeline.ledger(environment).all()[-1]


def _runtime_weights(sandbox: LocalSandbox) -> tuple[int, int]:
    """Weights as HAProxy itself reports them on its runtime socket."""
    runtime = HaproxyRuntime(sandbox.socket_path)
    return runtime.weight("stable"), runtime.weight("candidate")


def test_healthy_release_climbs_every_step_and_is_promoted(make_project):
    project = make_project()
    summary = _release(version="1.1.0")

    record = _last_record()
    assert record.outcome is Outcome.PROMOTED, summary
    steps = [d for d in record.decisions if d.stage == "canary"]
    assert [(d.evidence["weight"], d.verdict) for d in steps] == [
        (10, "promote"),
        (50, "promote"),
        (100, "promote"),
    ]
    assert all(d.evidence["gate"] == "sequential" for d in steps)
    assert all(d.evidence["candidate"]["requests"] >= 150 for d in steps)
    assert all(d.evidence["error_rate"]["promote"] for d in steps), "each pass is shown"
    assert "finished" not in record.stage("prepare").summary
    stage_names = [s.name for s in record.stages]
    assert stage_names[:8] == [
        "prepare",
        "test",
        "plan",
        "policy",
        "approve",
        "apply",
        "backup",
        "migrate",
    ]
    approval = next(d for d in record.decisions if d.stage == "approve")
    assert approval.evidence["approver"], "who approved is recorded"

    sandbox = _sandbox(project)
    assert _runtime_weights(sandbox) == (100, 0)
    served = http_client.get(sandbox.router_url + "/version", timeout=5).json()
    assert served["version"] == "1.1.0"
    assert [i.role for i in sandbox.services.running()] == ["stable"]


def test_faulty_release_is_rolled_back_at_the_first_step(make_project):
    project = make_project()
    with pytest.raises(ReleaseNotPromoted, match="rolled back: canary gate at 10%: error rate"):
        _release(version="1.2.0", fault="error_rate=0.05")

    record = _last_record()
    assert record.outcome is Outcome.ROLLED_BACK
    gate = next(d for d in record.decisions if d.stage == "canary")
    assert gate.verdict == "rollback" and gate.evidence["weight"] == 10
    assert gate.evidence["gate"] == "sequential"
    errors = gate.evidence["error_rate"]
    assert errors["log_e"] >= errors["rollback_at"], "the evidence shows the boundary crossed"
    assert gate.evidence["candidate"]["errors"] >= 2
    requests = gate.evidence["candidate"]["requests"]
    assert requests < 240, "rolled back before a clean step could even have passed (240)"
    report = render_markdown(record)
    assert "Sequential tests behind each verdict" in report
    assert f"| 10 % | errors | {errors['bad']:g} / {errors['n']} |" in report

    sandbox = _sandbox(project)
    assert _runtime_weights(sandbox) == (100, 0)
    assert sandbox.router.runtime.server_state("candidate")["srv_admin_state"] != "0"
    candidate_pids = [d for d in sandbox.services.running() if d.role == "candidate"]
    assert candidate_pids == []
    assert record.final_weights == {"stable": 100, "candidate": 0}
    assert alive(int(sandbox.services.instance("stable").handle))


def test_policy_violation_stops_before_apply(make_project):
    project = make_project()

    def unapproved(data):
        data["service"]["image"] = "docker.io/someone/petswipe"
        data["service"]["security"]["run_as_user"] = 0

    project.edit("local", unapproved)
    with pytest.raises(ReleaseNotPromoted, match=r"refused before any change: .*docker\.io"):
        _release(version="1.3.0")

    record = _last_record()
    assert record.outcome is Outcome.REFUSED
    last = record.stages[-1]
    assert last.name in ("test", "policy"), "the plan's policies or the manifest's refuse it"
    assert "docker.io" in last.summary
    assert not (project.run_root / "local" / "terraform" / "terraform.tfstate").exists()


def test_edited_migration_stops_before_migrate(make_project):
    project = make_project()
    sandbox = _sandbox(project)
    sandbox.up()
    script = project.root / "migrations" / "versions" / "0001_create_tables.py"
    script.write_text(script.read_text() + "\n# edited after it ran\n")

    with pytest.raises(ReleaseNotPromoted, match="0001"):
        _release(version="1.4.0")

    record = _last_record()
    migrate = record.stage("migrate")
    assert migrate is not None and migrate.status == "failed"
    assert record.stage("candidate") is None, "no candidate was started"
    assert record.outcome is Outcome.ROLLED_BACK
    assert _runtime_weights(sandbox) == (100, 0)


def _paused_run_id(timeout: float = 120):
    """The id of the release run once Prefect reports it Paused."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type={"any_": ["PAUSED"]}))
            )
            if runs:
                return runs[0].id
            time.sleep(0.5)
    raise AssertionError("the release never paused for approval")


def _release_in_background(version: str):
    from concurrent.futures import ThreadPoolExecutor

    from flows.release import release

    pool = ThreadPoolExecutor(max_workers=1)
    request = ReleaseRequest(environment="local", version=version, auto_approve=False)
    return pool, pool.submit(release, request=request, return_state=True)


@pytest.mark.parametrize("approve", [True, False], ids=["approved", "rejected"])
def test_release_pauses_for_approval_and_follows_the_answer(make_project, approve):
    from prefect.flow_runs import resume_flow_run

    make_project()
    pool, future = _release_in_background("1.6.0")
    try:
        run_id = _paused_run_id()
        assert _last_record().stage("apply") is None, "nothing is applied before approval"
        answer = {"approve": approve, "reason": "change ticket 42", "approver": "alice"}
        resume_flow_run(run_id, run_input=answer)
        state = future.result(timeout=300)
    finally:
        pool.shutdown(wait=True)

    record = _last_record()
    approval = next(d for d in record.decisions if d.stage == "approve")
    assert approval.verdict == ("approved" if approve else "rejected")
    assert approval.reason == "change ticket 42"
    assert approval.evidence["approver"] == "alice"
    if approve:
        assert state.is_completed() and record.outcome is Outcome.PROMOTED
    else:
        assert state.is_failed() and record.outcome is Outcome.ROLLED_BACK
        assert "rolled back: rejected at approval: change ticket 42 (by alice)" in state.message
        assert record.stage("apply") is None
        assert record.final_weights == {"stable": 100, "candidate": 0}


def test_an_unanswered_approval_ends_the_release_rolled_back(make_project):
    from flows.release import release

    project = make_project()
    project.edit("local", lambda data: data["approval"].update(timeout_seconds=3))
    state = release(
        request=ReleaseRequest(environment="local", version="1.7.0", auto_approve=False),
        return_state=True,
    )

    assert state.is_failed()
    record = _last_record()
    assert record.outcome is Outcome.ROLLED_BACK and record.stage("apply") is None
    assert record.reason == "rolled back: rejected at approval: no answer within 3 s"


def test_deploy_canary_runs_the_traffic_stages_behind_policy_and_approval(make_project):
    from flows.release import deploy_canary

    make_project()
    request = ReleaseRequest(version="1.8.0", fault="error_rate=0.05", auto_approve=True)
    state = deploy_canary(request=request, return_state=True)

    assert state.is_failed() and "rolled back: canary gate at 10%" in state.message
    record = _last_record()
    assert [s.name for s in record.stages] == [
        "prepare",
        "policy",
        "approve",
        "candidate",
        "canary 10%",
        "rollback",
    ]


def test_the_threshold_gate_stays_available_by_configuration(make_project):
    from flows.release import deploy_canary

    project = make_project()
    project.edit("local", lambda data: data["canary"].update(gate="threshold"))
    request = ReleaseRequest(version="1.9.0", fault="error_rate=0.05", auto_approve=True)
    state = deploy_canary(request=request, return_state=True)

    assert state.is_failed()
    gate = next(d for d in _last_record().decisions if d.stage == "canary")
    assert (gate.evidence["gate"], gate.verdict) == ("threshold", "rollback")


def test_a_spent_error_budget_refuses_the_release_before_any_change(make_project):
    from flows.release import release

    project = make_project()
    request = ReleaseRequest(version="2.0.0", auto_approve=True, error_budget_remaining=0)
    state = release(request=request, return_state=True)

    assert state.is_failed() and "error budget is spent" in state.message
    assert pipeline.ledger("local").all() == [], "refused by the guard, nothing recorded"
    assert not (project.run_root / "local" / "haproxy.pid").exists(), "nothing was started"
