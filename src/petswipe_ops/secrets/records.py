"""Rotation records: each step's intent before its side effect and its result after.

A record names the rotation by its token, which is also the new version's id in the
store, so the next run finds an unfinished rotation and resumes it instead of
starting a second one. Records never hold a secret value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from petswipe_ops.jsonfile import write_atomically
from petswipe_ops.secrets.model import SecretKind


class Step(StrEnum):
    CREATE = "createSecret"
    SET = "setSecret"
    TEST = "testSecret"
    FINISH = "finishSecret"


STEPS = (Step.CREATE, Step.SET, Step.TEST, Step.FINISH)


class StepStatus(StrEnum):
    INTENT = "intent"
    DONE = "done"
    FAILED = "failed"


class StepEntry(BaseModel):
    step: Step
    status: StepStatus
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    detail: str = ""


class RotationRecord(BaseModel):
    rotation_id: str
    environment: str
    secret: SecretKind
    name: str
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    outcome: Literal["in-progress", "rotated", "failed"] = "in-progress"
    reason: str = ""
    steps: list[StepEntry] = Field(default_factory=list)

    def done(self, step: Step) -> bool:
        return any(e.step is step and e.status is StepStatus.DONE for e in self.steps)


class RotationLedger:
    """One JSON file per rotation under `<run dir>/rotations/`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, record: RotationRecord) -> None:
        write_atomically(self.folder / f"{record.rotation_id}.json", record)

    def all(self) -> list[RotationRecord]:
        if not self.folder.is_dir():
            return []
        records = [
            RotationRecord.model_validate(json.loads(p.read_text()))
            for p in self.folder.glob("*.json")
        ]
        return sorted(records, key=lambda r: r.started_at)

    def unfinished(self, name: str) -> RotationRecord | None:
        """The newest rotation of `name` that did not reach finishSecret."""
        open_ = [r for r in self.all() if r.name == name and r.outcome != "rotated"]
        return open_[-1] if open_ else None
