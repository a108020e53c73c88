"""The rotation state machine on the owner-only local store with an in-memory target: an
interruption at any point converges on the next run, and no value reaches a record."""

from __future__ import annotations

import stat

import pytest
from pydantic import SecretStr

from petswipe_ops.errors import OpsError
from petswipe_ops.secrets.model import CURRENT, PENDING, PREVIOUS, SecretKind
from petswipe_ops.secrets.records import RotationLedger, Step, StepStatus
from petswipe_ops.secrets.rotation import Rotation, RotationFailed
from petswipe_ops.secrets.store import LocalSecretStore, staged_value

NAME = "petswipe/test/api-key"


class Target:
    """Counts calls; `crash_in` raises a non-OpsError (a killed process) inside a step."""

    kind = SecretKind.API_KEY

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.crash_in: str | None = None
        self.made = 0

    def generate(self, current: SecretStr | None) -> SecretStr:
        self.made += 1
        return SecretStr(f"value-{self.made}")

    def _call(self, name: str) -> str:
        self.calls.append(name)
        if self.crash_in == name:
            raise KeyboardInterrupt
        return name

    def set(self, pending: SecretStr, version_id: str) -> str:
        return self._call("set")

    def test(self, pending: SecretStr, version_id: str) -> str:
        return self._call("test")

    def finished(self) -> str:
        return self._call("finished")


@pytest.fixture
def parts(tmp_path):
    store = LocalSecretStore(tmp_path / "secrets" / "store.json")
    ledger = RotationLedger(tmp_path / "rotations")
    target = Target()
    return store, ledger, target, Rotation("test", NAME, store, target, ledger)


def test_two_rotations_keep_three_stages_in_an_owner_only_file(parts):
    store, ledger, _, rotation = parts
    first = rotation.run()
    second = rotation.run()
    assert store.stages(NAME) == {second.rotation_id: [CURRENT], first.rotation_id: [PREVIOUS]}
    assert staged_value(store, NAME, PREVIOUS).get_secret_value() == "value-1"
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    for record in ledger.all():
        assert [(e.step, e.status) for e in record.steps] == [
            (step, status)
            for step in (Step.CREATE, Step.SET, Step.TEST, Step.FINISH)
            for status in (StepStatus.INTENT, StepStatus.DONE)
        ]
        text = (ledger.folder / f"{record.rotation_id}.json").read_text()
        assert "value-1" not in text and "value-2" not in text


@pytest.mark.parametrize("crash_in", ["set", "test", "finished"])
def test_a_killed_rotation_converges_on_the_next_run(parts, crash_in):
    store, ledger, target, rotation = parts
    rotation.run()
    before = store.version_id(NAME, CURRENT)
    target.crash_in = crash_in
    with pytest.raises(KeyboardInterrupt):
        rotation.run()
    killed = ledger.unfinished(NAME)
    assert killed.steps[-1].status is StepStatus.INTENT
    if crash_in != "finished":
        assert store.version_id(NAME, CURRENT) == before
        assert store.version_id(NAME, PENDING) == killed.rotation_id

    target.crash_in = None
    result = rotation.run()

    assert result.rotation_id == killed.rotation_id
    assert store.version_id(NAME, CURRENT) == killed.rotation_id
    assert store.version_id(NAME, PREVIOUS) == before
    assert target.made == 2, "the pending value is reused, never made twice"
    assert ledger.unfinished(NAME) is None


def test_a_failing_step_raises_one_sentence_and_keeps_current(parts):
    store, _, target, rotation = parts
    rotation.run()
    before = store.version_id(NAME, CURRENT)

    def refuse(_pending: SecretStr, _vid: str) -> str:
        raise OpsError("the service answered 401.")

    target.test = refuse
    with pytest.raises(RotationFailed) as failed:
        rotation.run()
    assert str(failed.value) == (
        f"rotation of {NAME} failed at testSecret (the service answered 401); "
        "AWSCURRENT is unchanged and still in force; run it again to resume."
    )
    assert store.version_id(NAME, CURRENT) == before
