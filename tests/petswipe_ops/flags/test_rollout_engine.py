"""The rollout state machine on the versioned local store, with in-memory metrics: an
interrupted rollout resumes where the store is, a breach turns the flag off with its reason."""

from __future__ import annotations

import pytest

from petswipe_ops.config import EnvironmentConfig, load_file
from petswipe_ops.flags.metrics import FlagSides
from petswipe_ops.flags.rollout import SCHEDULES, FlagRollout, RolloutLedger, Strategy
from petswipe_ops.flags.store import LocalFlagStore
from petswipe_ops.metrics import VersionMetrics
from petswipe_ops.paths import project_root

FLAG = "recommended-feed"


class Metrics:
    """Cumulative on/off counts that grow by `per_read` at every read."""

    def __init__(self, on_error_rate: float = 0.0) -> None:
        self.reads = 0
        self.on_error_rate = on_error_rate

    def read(self) -> dict[str, FlagSides]:
        self.reads += 1
        n = self.reads * 50
        on = VersionMetrics(requests=n, errors=int(n * self.on_error_rate))
        return {FLAG: FlagSides(on=on, off=VersionMetrics(requests=4 * n))}


@pytest.fixture
def config():
    data = load_file(project_root() / "deployments" / "local.yaml").model_dump()
    data["feature_flags"].update(observe_interval_seconds=0.001, scale=0.0001)
    return EnvironmentConfig.model_validate(data)


def _rollout(config, tmp_path, metrics=None, sleep=lambda _s: None):
    store = LocalFlagStore(tmp_path / "flags")
    ledger = RolloutLedger(tmp_path / "flags" / "rollouts")
    return store, FlagRollout(config, store, ledger, metrics=metrics, sleep=sleep)


def test_the_strategies_are_the_seed_s():
    gradual = SCHEDULES[Strategy.GRADUAL]
    assert [p for p, _ in gradual] == [20, 40, 60, 80, 100]
    assert {s for _, s in gradual} == {360} and sum(s for _, s in gradual) == 30 * 60
    canary = SCHEDULES[Strategy.CANARY]
    assert canary[0][0] == 10 and sum(s for _, s in canary[1:]) == 60 * 60
    assert SCHEDULES[Strategy.IMMEDIATE] == ((100, 0.0),)


def test_an_interrupted_rollout_resumes_at_the_stored_percentage(config, tmp_path):
    calls = []

    def sleep(_seconds):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    store, rollout = _rollout(config, tmp_path, sleep=sleep)
    with pytest.raises(KeyboardInterrupt):
        rollout.enable(FLAG, Strategy.GRADUAL)
    assert store.latest().document.percentage(FLAG) == 60

    store, rollout = _rollout(config, tmp_path)
    record = rollout.enable(FLAG, Strategy.GRADUAL)

    assert record.outcome == "enabled"
    assert [v.document.percentage(FLAG) for v in store.history()] == [20, 40, 60, 60, 80, 100]
    assert [s.percent for s in record.steps if s.status == "done"] == [20, 40, 60, 80, 100]


def test_a_breach_turns_the_flag_off_and_says_why(config, tmp_path):
    store, rollout = _rollout(config, tmp_path, metrics=Metrics(on_error_rate=0.2))
    record = rollout.enable(FLAG, Strategy.CANARY, scale=0.01)
    assert record.outcome == "disabled-by-gate"
    assert record.reason.startswith("at 10 %: ")
    latest = store.latest()
    assert latest.document.enabled(FLAG) is False
    assert latest.description.startswith(f"{FLAG} off by the gate: ")


def test_a_healthy_flag_climbs_every_step(config, tmp_path):
    store, rollout = _rollout(config, tmp_path, metrics=Metrics())
    record = rollout.enable(FLAG, Strategy.CANARY, scale=0.0005)
    assert record.outcome == "enabled"
    assert [v.document.percentage(FLAG) for v in store.history()] == [10, 40, 70, 100]
