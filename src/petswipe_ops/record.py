"""The durable release record: every stage and decision, with its evidence, on disk.

It is rewritten after every change, so a crashed run leaves a record the next run
can reconcile and a person can audit.
"""

from __future__ import annotations

import json
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


class Outcome(StrEnum):
    RUNNING = "running"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    REFUSED = "refused"


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
    verdict: str
    reason: str
    evidence: dict[str, Any] = Field(default_factory=dict)


class ReleaseRecord(BaseModel):
    release_id: str
    environment: str
    version: str
    stable_version: str | None = None
    fault: str = "none"
    pid: int = Field(default_factory=os.getpid)
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    outcome: Outcome = Outcome.RUNNING
    reason: str = ""
    stages: list[StageRecord] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    final_weights: dict[str, int] | None = None

    def stage(self, name: str) -> StageRecord | None:
        return next((s for s in reversed(self.stages) if s.name == name), None)


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
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path(record.release_id)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(record.model_dump_json(indent=2))
        tmp.replace(target)

    def load(self, release_id: str) -> ReleaseRecord:
        return ReleaseRecord.model_validate_json(self.path(release_id).read_text())

    def all(self) -> list[ReleaseRecord]:
        if not self.directory.is_dir():
            return []
        records = [
            ReleaseRecord.model_validate(json.loads(p.read_text()))
            for p in sorted(self.directory.glob("*.json"))
        ]
        return sorted(records, key=lambda r: r.started_at)

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

    def decide(
        self, release_id: str, stage: str, verdict: str, reason: str, evidence: dict[str, Any]
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
