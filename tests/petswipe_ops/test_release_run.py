"""The release state machine on the in-memory platform: every transition, outcome and
rollback rule, in milliseconds. tests/flows/ runs the same machine on the real sandbox."""

from __future__ import annotations

import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.errors import ConfigError
from petswipe_ops.jsonfile import CorruptFile
from petswipe_ops.paths import project_root
from petswipe_ops.record import (
    DecisionVerdict,
    Effect,
    Outcome,
    Phase,
    ReleaseLedger,
)
from petswipe_ops.release import ReleaseRequest
from petswipe_ops.release_run import ApprovalAnswer, ReleaseRun
from tests.petswipe_ops.fakes import FakePlatform, FakeTools, FakeTraffic


@pytest.fixture
def config():
    base = load_environment("local", project_root())
    # The fake platform's traffic is instant; the bake time (its own gate tests) would only
    # make each state-machine test wait in real seconds.
    canary = base.canary.model_copy(
        update={"observe_interval_seconds": 0.001, "min_step_seconds": 0}
    )
    return base.model_copy(update={"canary": canary})


@pytest.fixture
def world(config, tmp_path, monkeypatch):
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(tmp_path / "run"))
    platform = FakePlatform(config)
    tools = FakeTools()
    book = ReleaseLedger(tmp_path / "releases")
    return config, platform, tools, book


def _begin(world, version="1.1.0", **request):
    config, platform, tools, book = world
    request = ReleaseRequest(version=version, auto_approve=True, **request)
    run = ReleaseRun.begin(config, request, platform=platform, tools=tools, book=book)
    return run, request


def _through_canary(run, request, fault=None):
    run.prepare()
    planned = run.plan()
    run.check_policies()
    assert run.approve_automatically(request)
    run.apply(planned)
    run.migrate()
    candidate = run.start_candidate(fault)
    results = []
    for weight in run.config.canary.steps:
        results.append(run.canary_step(candidate, weight, FakeTraffic()))
        if results[-1].verdict.value != "promote":
            break
    return candidate, results


def test_a_healthy_release_is_promoted_and_every_effect_is_journaled_twice(world):
    run, request = _begin(world)
    platform = run.platform
    old = None
    candidate, results = _through_canary(run, request)
    old = platform.services.instance("stable")
    run.finalize(candidate)

    record = run.record
    assert record.outcome is Outcome.PROMOTED
    assert [r.verdict.value for r in results] == ["promote", "promote", "promote"]
    effects = [(e.effect, e.phase) for e in record.journal]
    for effect in (Effect.APPLY, Effect.MIGRATE, Effect.START_CANDIDATE, Effect.SWITCH_STABLE):
        assert effects.index((effect, Phase.INTENT)) < effects.index((effect, Phase.DONE))
    assert platform.router.state().stable_target == candidate.endpoint
    assert platform.router.get_weights().model_dump() == {"stable": 100, "candidate": 0}
    assert platform.services.instance("stable").version == "1.1.0"
    assert old.handle not in platform.services.alive
    assert run.abort("too late").outcome is Outcome.PROMOTED, "a finished record stays"


def test_a_faulty_candidate_is_rolled_back_and_the_stable_keeps_serving(world):
    run, request = _begin(world, fault="error_rate=0.05")
    candidate, results = _through_canary(run, request, fault="error_rate=0.05")
    assert results[-1].verdict.value == "rollback"
    stable = run.platform.services.instance("stable")

    result = run.abort("canary gate at 10%: error rate")

    assert result.outcome is Outcome.ROLLED_BACK
    assert result.reason == "rolled back: canary gate at 10%: error rate"
    router = run.platform.router
    assert router.serving() == {stable.endpoint}
    assert candidate.handle not in run.platform.services.alive
    assert result.weights.model_dump() == {"stable": 100, "candidate": 0}


def test_a_failure_before_any_change_is_a_refusal(world):
    config, platform, _, book = world
    tools = FakeTools(deny="the image tag 'latest' is mutable.")
    request = ReleaseRequest(version="1.1.0", auto_approve=True)
    run = ReleaseRun.begin(config, request, platform=platform, tools=tools, book=book)
    run.prepare()
    with pytest.raises(Exception, match="mutable"):
        run.check_policies()

    result = run.abort("the image tag 'latest' is mutable.")

    assert result.outcome is Outcome.REFUSED
    assert run.record.decisions[-1].verdict is DecisionVerdict.DENY
    assert "apply" not in tools.calls and run.record.journal == []


def test_abort_is_idempotent(world):
    run, request = _begin(world)
    _candidate, _ = _through_canary(run, request)
    first = run.abort("interrupted by SIGINT (Ctrl-C)")
    second = run.abort("interrupted by SIGINT (Ctrl-C)")

    assert first == second
    assert [s.name for s in run.record.stages].count("rollback") == 1


@pytest.mark.parametrize(
    ("killed_after", "outcome", "serving"),
    [
        ("shift to 100 %", Outcome.ROLLED_BACK, "old"),
        ("stable side pointed at the candidate", Outcome.PROMOTED, "new"),
        ("router switch", Outcome.PROMOTED, "new"),
        ("old stable stopped", Outcome.PROMOTED, "new"),
    ],
)
def test_an_interrupted_finalize_ends_on_a_live_version(world, killed_after, outcome, serving):
    """Each point between finalize's steps: abort converges from the router's real state,
    and never stops what the stable side serves users from."""
    run, request = _begin(world)
    candidate, _ = _through_canary(run, request)
    router, services = run.platform.router, run.platform.services
    old = services.instance("stable")
    steps = [
        lambda: router.set_candidate_weight(100),
        lambda: router.point_stable(candidate),
        lambda: router.detach_candidate(),
        lambda: services.stop(old),
    ]
    index = [
        "shift to 100 %",
        "stable side pointed at the candidate",
        "router switch",
        "old stable stopped",
    ].index(killed_after)
    for step in steps[: index + 1]:
        step()
        assert router.serving() & {i.endpoint for i in services.running()}, "users served"

    result = run.abort("interrupted by SIGTERM")

    expected = old if serving == "old" else candidate
    assert result.outcome is outcome
    assert router.serving() == {expected.endpoint}
    assert [i.handle for i in services.running()] == [expected.handle]
    assert services.instance("stable").handle == expected.handle
    assert router.get_weights().model_dump() == {"stable": 100, "candidate": 0}


def test_reconcile_keeps_what_serves_users_when_health_checks_time_out(world):
    """A slow health check on a loaded host is no reason to stop the stable version."""
    run, request = _begin(world)
    candidate, _ = _through_canary(run, request)
    services = run.platform.services
    stable = services.instance("stable")
    services.unhealthy |= {stable.handle, candidate.handle}

    run.abort("interrupted by SIGINT (Ctrl-C)")

    assert [i.handle for i in services.running()] == [stable.handle]


def test_reconcile_never_promotes_an_ungated_candidate_over_a_running_stable(world):
    """The stable fails its health check while the candidate passes: the stable stays, the
    candidate, which the gates never finished judging, is stopped (on AWS the stable service
    would otherwise be rolled onto it)."""
    run, request = _begin(world)
    candidate, _ = _through_canary(run, request)
    services, router = run.platform.services, run.platform.router
    stable = services.instance("stable")
    router.set_candidate_weight(50)
    services.unhealthy.add(stable.handle)

    run.abort("interrupted by SIGTERM")

    assert [i.handle for i in services.running()] == [stable.handle]
    assert candidate.handle not in services.alive
    assert router.state().stable_target == stable.endpoint
    assert router.get_weights().model_dump() == {"stable": 100, "candidate": 0}
    assert run.record.outcome is Outcome.ROLLED_BACK


def test_reconcile_serves_the_candidate_only_when_no_stable_runs(world):
    run, request = _begin(world)
    candidate, _ = _through_canary(run, request)
    services, router = run.platform.services, run.platform.router
    services.alive.discard(services.instance("stable").handle)

    run.abort("interrupted by SIGTERM")

    assert router.serving() == {candidate.endpoint}
    assert services.instance("stable").handle == candidate.handle


def test_a_new_release_finishes_what_a_killed_one_left(world):
    _config, platform, _tools, book = world
    killed, request = _begin(world, version="1.1.0")
    candidate, _ = _through_canary(killed, request)
    platform.router.set_candidate_weight(50)

    current, _ = _begin(world, version="1.2.0")
    current.prepare()

    record = book.load(killed.release_id)
    assert record.outcome is Outcome.ROLLED_BACK
    assert "ended without finishing" in record.reason
    assert candidate.handle not in platform.services.alive
    assert "finished" in current.record.stage("prepare").summary
    assert book.load(current.release_id).outcome is Outcome.RUNNING


def test_auto_approval_only_where_the_environment_allows_it(config, world):
    strict = config.model_copy(
        update={"approval": config.approval.model_copy(update={"allow_auto": False})}
    )
    _, platform, tools, book = world
    request = ReleaseRequest(version="1.1.0", auto_approve=True)
    with pytest.raises(ConfigError, match=r"approval\.allow_auto is false"):
        ReleaseRun.begin(strict, request, platform=platform, tools=tools, book=book)
    assert book.all() == [], "nothing recorded"


def test_a_person_s_answer_is_kept_with_who_gave_it(world):
    run, _ = _begin(world)
    run.prepare()
    run.check_policies()
    with pytest.raises(Exception, match=r"rejected at approval: CHG-43 failed review \(by bob\)"):
        run.record_approval(
            ApprovalAnswer(approve=False, approver="bob", reason="CHG-43 failed review"), ""
        )
    result = run.abort("rejected at approval: CHG-43 failed review (by bob)")

    decision = next(d for d in run.record.decisions if d.stage == "approve")
    assert decision.verdict is DecisionVerdict.REJECTED
    assert decision.evidence["approver"] == "bob"
    assert result.outcome is Outcome.ROLLED_BACK


def test_a_corrupt_record_is_one_sentence_naming_the_file(world):
    run, _ = _begin(world)
    path = run.book.path(run.release_id)
    path.write_text('{"release_id": ')
    with pytest.raises(CorruptFile, match=rf"{path.name} is not a valid release record \(line 1"):
        run.book.unfinished()


def _report(config, ratio_30d):
    """An SLO report saved now whose availability burned `ratio_30d` errors over 30 days."""
    import time

    from petswipe_ops.slo import history
    from petswipe_ops.slo.report import build_report
    from tests.petswipe_ops.slo.test_report import FixedRatios

    slos = config.model_copy(update={"slos": [config.slos[0]]})
    history.save(build_report(slos, FixedRatios({30 * 86400: ratio_30d}), time.time()))
    return slos


def test_a_spent_budget_in_the_latest_slo_report_refuses_the_release(world):
    from petswipe_ops.slo.freeze import ErrorBudgetSpent

    config, platform, tools, book = world
    spent = _report(config, 0.0013)
    request = ReleaseRequest(version="1.1.0", auto_approve=True)
    with pytest.raises(ErrorBudgetSpent, match=r"availability 99\.87 % over 30 d against 99\.9 %"):
        ReleaseRun.begin(spent, request, platform=platform, tools=tools, book=book)
    assert book.all() == [], "refused before anything was recorded or changed"

    overridden = request.model_copy(update={"budget_override_reason": "checkout outage fix"})
    run = ReleaseRun.begin(spent, overridden, platform=platform, tools=tools, book=book)
    budget = next(d for d in run.record.decisions if d.stage == "budget")
    assert budget.evidence["overridden"] and budget.evidence["override_reason"]
    assert run.budget_remaining is not None and run.budget_remaining < 0.01, "strictest gate"


def test_a_budget_left_lets_the_release_go_and_a_low_one_tightens_the_gate(world):
    config, platform, tools, book = world
    low = _report(config, 0.0007)
    request = ReleaseRequest(version="1.1.0", auto_approve=True)
    run = ReleaseRun.begin(low, request, platform=platform, tools=tools, book=book)
    assert run.budget_remaining == pytest.approx(0.3)
    _, results = _through_canary(run, request)
    assert [r.verdict.value for r in results] == ["promote", "promote", "promote"]
    settings = results[0].decision.evidence["settings"]
    assert settings["budget_remaining"] == pytest.approx(0.3) and settings["tightening"] < 1
