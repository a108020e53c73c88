"""The durable release record: every stage and decision, with its evidence, on disk.

It is rewritten after every change, so a crashed run leaves a record the next run
can reconcile and a person can audit. Side effects are journaled twice: their intent
before they start and their result after, so whoever finds an unfinished record knows
which effects may be half done and reads the platform to see which.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from petswipe_ops.errors import OpsError
from petswipe_ops.jsonfile import load_model, write_atomically
from petswipe_ops.liveness import this_host


class Outcome(StrEnum):
    RUNNING = "running"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    REFUSED = "refused"


class DecisionVerdict(StrEnum):
    """What a decision concluded; the report and the release outcome read these."""

    APPROVED = "approved"
    REJECTED = "rejected"
    ALLOW = "allow"
    DENY = "deny"
    TAKEN = "taken"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    CONTINUE = "continue"


class Effect(StrEnum):
    """Side effects on the world, journaled before and after they happen."""

    APPLY = "apply"
    BACKUP = "backup"
    MIGRATE = "migrate"
    START_CANDIDATE = "start-candidate"
    SHIFT_TRAFFIC = "shift-traffic"
    SWITCH_STABLE = "switch-stable"
    RETIRE_OLD_STABLE = "retire-old-stable"
    ROLLBACK = "rollback"


class Phase(StrEnum):
    INTENT = "intent"
    DONE = "done"


class JournalEntry(BaseModel):
    effect: Effect
    phase: Phase
    at: datetime
    detail: dict[str, Any] = Field(default_factory=dict)


class StageRecord(BaseModel):
    name: str
    status: str = "running"
    started_at: datetime
    finished_at: datetime | None = None
    summary: str = ""
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Decision(BaseModel):
    at: datetime
    stage: str
    verdict: DecisionVerdict
    reason: str
    evidence: dict[str, Any] = Field(default_factory=dict)


class ReleaseRecord(BaseModel):
    release_id: str
    environment: str
    version: str
    stable_version: str | None = None
    fault: str = "none"
    pid: int = Field(default_factory=os.getpid)
    host: str = Field(default_factory=this_host)
    flow_run_id: str | None = None
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    outcome: Outcome = Outcome.RUNNING
    reason: str = ""
    stages: list[StageRecord] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    final_weights: dict[str, int] | None = None
    budget_remaining: float | None = None
    journal: list[JournalEntry] = Field(default_factory=list)

    def stage(self, name: str) -> StageRecord | None:
        return next((s for s in reversed(self.stages) if s.name == name), None)

    def intended(self, effect: Effect) -> bool:
        """The run meant to cause `effect` (it may or may not have happened)."""
        return any(e.effect is effect for e in self.journal)

    def completed(self, effect: Effect) -> bool:
        return any(e.effect is effect and e.phase is Phase.DONE for e in self.journal)

    @property
    def changed_anything(self) -> bool:
        """Whether any side effect was started: the difference between refused and rolled back."""
        return bool(self.journal)


class ReleaseLedger:
    """Reads and writes the release records of one environment."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, release_id: str) -> Path:
        return self.directory / f"{release_id}.json"

    def create(self, environment: str, version: str, fault: str) -> ReleaseRecord:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        record = ReleaseRecord(
            release_id=f"{stamp}-{version}-{uuid.uuid4().hex[:6]}",
            environment=environment,
            version=version,
            fault=fault,
        )
        self.save(record)
        return record

    def save(self, record: ReleaseRecord) -> None:
        write_atomically(self.path(record.release_id), record)

    def load(self, release_id: str) -> ReleaseRecord:
        return self._read(self.path(release_id))

    def _read(self, path: Path) -> ReleaseRecord:
        if not path.is_file():
            raise OpsError(f"there is no release record {path}.")
        return load_model(path, ReleaseRecord)

    def all(self) -> list[ReleaseRecord]:
        if not self.directory.is_dir():
            return []
        records = [self._read(p) for p in sorted(self.directory.glob("*.json"))]
        return sorted(records, key=lambda r: r.started_at)

    def find_by_flow_run(self, flow_run_id: str) -> ReleaseRecord | None:
        return next((r for r in self.all() if r.flow_run_id == flow_run_id), None)

    def unfinished(self) -> list[ReleaseRecord]:
        return [r for r in self.all() if r.outcome is Outcome.RUNNING]

    @contextmanager
    def stage(self, release_id: str, name: str) -> Iterator[StageRecord]:
        """Record a stage: its timing, and `failed` with the error if the body raises."""
        record = self.load(release_id)
        stage = StageRecord(name=name, started_at=datetime.now(UTC))
        record.stages.append(stage)
        self.save(record)
        try:
            yield stage
        except BaseException as exc:
            stage.status = "failed"
            stage.summary = (
                str(exc) if isinstance(exc, OpsError) else f"{type(exc).__name__}: {exc}"
            )
            raise
        else:
            if stage.status == "running":
                stage.status = "passed"
        finally:
            stage.finished_at = datetime.now(UTC)
            record = self.load(release_id)
            record.stages[-1] = stage
            self.save(record)

    def journal(
        self, release_id: str, effect: Effect, phase: Phase, detail: dict[str, Any] | None = None
    ) -> None:
        record = self.load(release_id)
        record.journal.append(
            JournalEntry(effect=effect, phase=phase, at=datetime.now(UTC), detail=detail or {})
        )
        self.save(record)

    def decide(
        self,
        release_id: str,
        stage: str,
        verdict: DecisionVerdict,
        reason: str,
        evidence: dict[str, Any],
    ) -> Decision:
        record = self.load(release_id)
        decision = Decision(
            at=datetime.now(UTC), stage=stage, verdict=verdict, reason=reason, evidence=evidence
        )
        record.decisions.append(decision)
        self.save(record)
        return decision

    def finish(
        self,
        release_id: str,
        outcome: Outcome,
        reason: str,
        final_weights: dict[str, int] | None = None,
    ) -> ReleaseRecord:
        record = self.load(release_id)
        record.outcome = outcome
        record.reason = reason
        record.final_weights = final_weights
        record.finished_at = datetime.now(UTC)
        self.save(record)
        return record

    def update(self, release_id: str, **fields: Any) -> ReleaseRecord:
        record = self.load(release_id).model_copy(update=fields)
        self.save(record)
        return record
