import pytest

from petswipe_ops.errors import ConfigError
from petswipe_ops.record import Outcome, ReleaseLedger
from petswipe_ops.report import render_markdown, render_summary


@pytest.fixture
def ledger(tmp_path):
    return ReleaseLedger(tmp_path / "releases")


def test_every_change_is_on_disk_at_once(ledger):
    record = ledger.create("local", "1.2.0", "none")
    with ledger.stage(record.release_id, "plan") as stage:
        stage.summary = "2 outputs change"
        on_disk = ReleaseLedger(ledger.directory).load(record.release_id)
        assert on_disk.stages[-1].status == "running", "a crash mid-stage leaves a trace"
    ledger.decide(record.release_id, "canary", "promote", "fine", {"weight": 10})

    reread = ReleaseLedger(ledger.directory).load(record.release_id)
    assert reread.stages[-1].status == "passed" and reread.stages[-1].seconds >= 0
    assert reread.decisions[-1].evidence == {"weight": 10}
    assert [r.release_id for r in ledger.unfinished()] == [record.release_id]


def test_a_failing_stage_is_recorded_with_its_sentence(ledger):
    record = ledger.create("local", "1.2.0", "none")
    with pytest.raises(ConfigError), ledger.stage(record.release_id, "policy"):
        raise ConfigError("the image tag 'latest' is mutable.")
    stage = ledger.load(record.release_id).stage("policy")
    assert stage.status == "failed" and stage.summary == "the image tag 'latest' is mutable."


def test_report_shows_each_gate_decision_with_its_numbers(ledger):
    record = ledger.create("local", "1.2.0", "error_rate=0.05")
    evidence = {
        "weight": 10,
        "candidate": {"requests": 31, "errors": 2, "error_rate": 0.0645, "p95_ms": 12.0},
        "stable": {"requests": 280, "p95_ms": 9.5},
    }
    ledger.decide(record.release_id, "canary", "rollback", "error rate over SLO", evidence)
    done = ledger.finish(
        record.release_id,
        Outcome.ROLLED_BACK,
        "rolled back: error rate over SLO",
        {"stable": 100, "candidate": 0},
    )

    markdown = render_markdown(done)
    assert "# Release 1.2.0 to local: rolled back" in markdown
    assert "| 10 % | rollback | 31 | 2 | 6.45% | 12 |" in markdown
    assert "router after release: stable 100 % / candidate 0 %" in markdown
    assert render_summary(done).startswith("1.2.0 → local: ROLLED BACK (10% rollback)")
    assert ledger.unfinished() == []
