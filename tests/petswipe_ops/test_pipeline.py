"""Pipeline stages that need no Prefect, on the real local sandbox."""

from __future__ import annotations

from petswipe_ops import pipeline
from petswipe_ops.config import load_environment
from petswipe_ops.platform import open_platform
from petswipe_ops.record import Outcome
from petswipe_ops.release import ReleaseRequest


def test_a_crashed_release_is_reconciled_by_the_next_one(make_project):
    project = make_project()
    config = load_environment("local", project.root)
    platform = open_platform(config)
    platform.up()
    book = pipeline.ledger("local")
    crashed = book.create("local", "2.0.0", "none")
    candidate = pipeline.start_candidate(platform, ReleaseRequest(version="2.0.0"))
    platform.router.set_candidate_weight(50)
    current = book.create("local", "2.0.1", "none")

    assert pipeline.reconcile(config, platform, current.release_id) == [crashed.release_id]

    record = book.load(crashed.release_id)
    assert record.outcome is Outcome.ROLLED_BACK
    assert record.final_weights == {"stable": 100, "candidate": 0}
    assert platform.router.get_weights().model_dump() == {"stable": 100, "candidate": 0}
    assert candidate.handle not in {i.handle for i in platform.services.running()}
    assert book.load(current.release_id).outcome is Outcome.RUNNING
    assert pipeline.reconcile(config, platform, current.release_id) == []


def test_the_deployment_manifest_of_each_environment_passes_the_policies():
    from petswipe_ops.paths import project_root

    for environment in ("local", "staging", "production"):
        config = load_environment(environment, project_root())
        report = pipeline.check_policies(config, "1.4.0")
        assert report.allowed, environment
