"""The rotation state machine: createSecret, setSecret, testSecret, finishSecret.

Each step writes its intent to the record, does its side effect, then writes its
result. Any failure before finishSecret leaves AWSCURRENT as it was (the new value
only ever sits in AWSPENDING), and the next run resumes the same rotation by its
token: createSecret is skipped when the pending version exists, setSecret and
testSecret are idempotent, finishSecret is a single atomic stage move.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel

from petswipe_ops.errors import OpsError
from petswipe_ops.secrets.model import CURRENT, PENDING, PREVIOUS, SecretKind
from petswipe_ops.secrets.records import (
    STEPS,
    RotationLedger,
    RotationRecord,
    Step,
    StepEntry,
    StepStatus,
)
from petswipe_ops.secrets.store import SecretStore, staged_value
from petswipe_ops.secrets.targets import RotationTarget


class RotationFailed(OpsError):
    """A step failed; the current secret is unchanged and still in force."""

    exit_code = 1


class InjectedFault(OpsError):
    """A failure injected at a step (tests and drills)."""


class RotationResult(BaseModel):
    rotation_id: str
    secret: SecretKind
    name: str
    resumed: bool
    current_version: str
    previous_version: str | None
    steps: list[StepEntry]


def _one_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class Rotation:
    """Rotate one secret of one environment through its store and target."""

    def __init__(
        self,
        environment: str,
        name: str,
        store: SecretStore,
        target: RotationTarget,
        ledger: RotationLedger,
    ) -> None:
        self.environment = environment
        self.name = name
        self.store = store
        self.target = target
        self.ledger = ledger

    def _begin(self) -> tuple[RotationRecord, bool]:
        """Resume an unfinished rotation whose pending version is still staged, or start one."""
        open_ = self.ledger.unfinished(self.name)
        pending = self.store.version_id(self.name, PENDING)
        if open_ is not None and open_.rotation_id == self.store.version_id(self.name, CURRENT):
            # interrupted after the stage move: that rotation is done, close its record
            self._mark(open_, Step.FINISH, StepStatus.DONE, f"{open_.rotation_id} is {CURRENT}")
            return open_, True
        if open_ is not None and (not open_.done(Step.CREATE) or open_.rotation_id == pending):
            open_.outcome, open_.reason = "in-progress", ""
            return open_, True
        record = RotationRecord(
            rotation_id=str(uuid.uuid4()),
            environment=self.environment,
            secret=self.target.kind,
            name=self.name,
        )
        return record, False

    def _mark(self, record: RotationRecord, step: Step, status: StepStatus, detail: str) -> None:
        record.steps.append(StepEntry(step=step, status=status, detail=detail))
        self.ledger.save(record)

    def run(self, fault: Step | None = None) -> RotationResult:
        record, resumed = self._begin()
        self.ledger.save(record)
        vid = record.rotation_id
        for step in STEPS:
            if record.done(step):
                continue
            self._mark(record, step, StepStatus.INTENT, "")
            try:
                if fault is step:
                    raise InjectedFault(f"failure injected at {step.value}")
                detail = self._do(step, vid)
            except OpsError as exc:
                reason = _one_line(exc)
                self._mark(record, step, StepStatus.FAILED, reason)
                record.outcome, record.reason = "failed", f"{step.value}: {reason}"
                record.finished_at = datetime.now(UTC)
                self.ledger.save(record)
                raise RotationFailed(
                    f"rotation of {self.name} failed at {step.value} ({reason.rstrip('.')}); "
                    f"{CURRENT} is unchanged and still in force; run it again to resume."
                ) from None
            self._mark(record, step, StepStatus.DONE, detail)
        record.outcome, record.finished_at = "rotated", datetime.now(UTC)
        self.ledger.save(record)
        return RotationResult(
            rotation_id=vid,
            secret=self.target.kind,
            name=self.name,
            resumed=resumed,
            current_version=vid,
            previous_version=self.store.version_id(self.name, PREVIOUS),
            steps=record.steps,
        )

    def _do(self, step: Step, vid: str) -> str:
        if step is Step.CREATE:
            if self.store.value(self.name, vid) is not None:
                return f"pending version {vid} already staged"
            current = staged_value(self.store, self.name, CURRENT)
            self.store.put_pending(self.name, vid, self.target.generate(current))
            return f"new version {vid} staged as {PENDING}"
        pending = self.store.value(self.name, vid)
        if pending is None:
            raise OpsError(f"the pending version {vid} is gone from the store")
        if step is Step.SET:
            return self.target.set(pending, vid)
        if step is Step.TEST:
            return self.target.test(pending, vid)
        self.store.promote(self.name, vid)
        try:
            reloaded = self.target.finished()
        except OpsError as exc:
            reloaded = f"reload not confirmed ({_one_line(exc)}); services re-read on auth failure"
        return f"{vid} is {CURRENT}, the old one {PREVIOUS}; {reloaded}"
