"""Pipeline stages that need no Prefect, on the real local sandbox."""

from __future__ import annotations

from petswipe_ops import pipeline, reconcile
from petswipe_ops.config import load_environment
from petswipe_ops.paths import project_root
from petswipe_ops.platform import open_platform
from petswipe_ops.record import Outcome
from petswipe_ops.release import ReleaseRequest
from petswipe_ops.release_run import ReleaseRun


def test_a_crashed_release_is_reconciled_by_the_next_one(make_project):
    """A run killed at 50 % on the real sandbox: the next release's prepare puts traffic
    back on the stable version it reads from HAProxy and stops the orphaned candidate."""
    project = make_project()
    config = load_environment("local", project.root)
    platform = open_platform(config)
    platform.up()
    book = pipeline.ledger("local")
    crashed = ReleaseRun.begin(config, ReleaseRequest(version="2.0.0", auto_approve=True))
    candidate = crashed.start_candidate()
    platform.router.set_candidate_weight(50)
    stable = platform.services.instance("stable")
    current = ReleaseRun.begin(config, ReleaseRequest(version="2.0.1", auto_approve=True))

    current.prepare()

    record = book.load(crashed.release_id)
    assert record.outcome is Outcome.ROLLED_BACK
    assert record.final_weights == {"stable": 100, "candidate": 0}
    assert platform.router.state().stable_target == stable.endpoint
    assert platform.router.get_weights().model_dump() == {"stable": 100, "candidate": 0}
    assert candidate.handle not in {i.handle for i in platform.services.running()}
    assert book.load(current.release_id).outcome is Outcome.RUNNING


def test_reconcile_completes_a_finalize_killed_after_the_router_switch(make_project):
    """The stable side already sends users to the candidate: reconcile keeps it and stops
    the old version, rather than stopping what serves 100 % of traffic."""
    make_project()
    config = load_environment("local", project_root())
    platform = open_platform(config)
    platform.up()
    run = ReleaseRun.begin(config, ReleaseRequest(version="2.1.0", auto_approve=True))
    candidate = run.start_candidate()
    old = platform.services.instance("stable")
    platform.router.set_candidate_weight(100)
    platform.router.point_stable(candidate)

    convergence = reconcile.converge(platform)
    finished = reconcile.finish_abandoned(pipeline.ledger("local"), convergence)

    assert convergence.direction is reconcile.Direction.ROLLED_FORWARD
    assert [r.outcome for r in finished] == [Outcome.PROMOTED]
    assert platform.router.state().stable_target == candidate.endpoint
    assert [(i.role, i.version) for i in platform.services.running()] == [("stable", "2.1.0")]
    assert old.handle not in {i.handle for i in platform.services.running()}


def test_the_deployment_manifest_of_each_environment_passes_the_policies():
    for environment in ("local", "staging", "production"):
        config = load_environment(environment, project_root())
        report = pipeline.check_policies(config, "1.4.0")
        assert report.allowed, environment
