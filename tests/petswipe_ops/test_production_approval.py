"""Production releases need a person: auto-approval is refused before a record is opened."""

from __future__ import annotations

import pytest

from petswipe_ops import pipeline
from petswipe_ops.config import load_environment
from petswipe_ops.errors import ConfigError
from petswipe_ops.paths import project_root
from petswipe_ops.release import ReleaseRequest
from petswipe_ops.release_run import ReleaseRun, check_approval_rules


def request(environment: str, auto: bool) -> ReleaseRequest:
    return ReleaseRequest(environment=environment, version="2.0.0", auto_approve=auto)


def test_production_refuses_auto_approval_in_one_sentence_and_records_nothing(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(tmp_path))
    config = load_environment("production", project_root())
    with pytest.raises(ConfigError) as refused:
        ReleaseRun.begin(config, request("production", auto=True), platform=object())
    message = str(refused.value)
    assert message.startswith("releases to 'production' need a person's approval")
    assert message.endswith("answer the approval form.") and message.count(". ") == 0
    assert pipeline.ledger("production").all() == []


def test_staging_may_auto_approve_and_production_waits_for_a_person() -> None:
    staging = load_environment("staging", project_root())
    check_approval_rules(staging, request("staging", auto=True))
    production = load_environment("production", project_root())
    check_approval_rules(production, request("production", auto=False))
    assert production.approval.required and not production.approval.allow_auto
