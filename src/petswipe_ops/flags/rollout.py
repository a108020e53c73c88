"""Progressive flag rollout: the seed's strategies, run step by step and watched by a gate.

Each step stores a new flag version at its percentage (intent recorded before, the
version number after), then the sequential gate compares requests with the flag on
against requests with it off, as a canary's candidate against the stable. A breach
stores a version with the flag off and records why. A re-run resumes from the
percentage the store holds, so an interrupted rollout converges.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.flags.metrics import FlagSides
from petswipe_ops.flags.model import FlagError
from petswipe_ops.flags.store import FlagStore
from petswipe_ops.gates import GateInput, SequentialGate, Verdict
from petswipe_ops.jsonfile import write_atomically


class Strategy(StrEnum):
    GRADUAL = "gradual"
    CANARY = "canary"
    IMMEDIATE = "immediate"


# (percentage, seconds watched at it) per step, before SCALE.
SCHEDULES: dict[Strategy, tuple[tuple[float, float], ...]] = {
    # 20 % every 6 minutes over 30 minutes
    Strategy.GRADUAL: tuple((p, 360.0) for p in (20, 40, 60, 80, 100)),
    # 10 % first (watched 10 minutes), then a 60-minute rollout to 100 %
    Strategy.CANARY: ((10, 600.0), (40, 1200.0), (70, 1200.0), (100, 1200.0)),
    Strategy.IMMEDIATE: ((100, 0.0),),
}


def parse_strategy(raw: str) -> Strategy:
    try:
        return Strategy(raw)
    except ValueError:
        known = ", ".join(s.value for s in Strategy)
        raise FlagError(f"unknown strategy '{raw}'; choose one of: {known}.") from None


class FlagMetricsSource(Protocol):
    def read(self) -> dict[str, FlagSides]: ...


class StepEntry(BaseModel):
    percent: float
    status: Literal["intent", "done", "breach", "stopped"]
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    version: int | None = None
    detail: str = ""
    on_requests: int = 0
    off_requests: int = 0


class RolloutRecord(BaseModel):
    flag: str
    strategy: Strategy
    scale: float
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    outcome: Literal["in-progress", "enabled", "disabled-by-gate", "stopped"] = "in-progress"
    reason: str = ""
    steps: list[StepEntry] = Field(default_factory=list)


class RolloutLedger:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, flag: str) -> Path:
        return self.folder / f"{flag}.json"

    def save(self, record: RolloutRecord) -> None:
        write_atomically(self.path(record.flag), record)

    def get(self, flag: str) -> RolloutRecord | None:
        path = self.path(flag)
        if not path.is_file():
            return None
        return RolloutRecord.model_validate(json.loads(path.read_text()))


class FlagRollout:
    """Enable or disable one flag through a store, optionally watched by flag metrics."""

    def __init__(
        self,
        config: EnvironmentConfig,
        store: FlagStore,
        ledger: RolloutLedger,
        metrics: FlagMetricsSource | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_version: Callable[[int, str], None] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.ledger = ledger
        self.metrics = metrics
        self.sleep = sleep
        self.on_version = on_version
        self.gate = SequentialGate(config.canary.sequential)

    def _store(self, flag: str, enabled: bool, percent: float, why: str) -> int:
        latest = self.store.latest()
        document = latest.document.with_rollout(flag, enabled, percent)
        stored = self.store.put(document, why, latest.number)
        if self.on_version is not None:
            self.on_version(stored.number, why)
        return stored.number

    def disable(self, flag: str, reason: str = "disabled by hand") -> int:
        self.store.latest().document.require(flag)
        number = self._store(flag, False, 0, f"{flag} off: {reason}")
        record = self.ledger.get(flag)
        if record is not None and record.outcome == "in-progress":
            record.outcome, record.reason = "stopped", reason
            record.finished_at = datetime.now(UTC)
            self.ledger.save(record)
        return number

    def begin(self, flag: str, strategy: Strategy, scale: float | None = None) -> RolloutRecord:
        """The rollout record to work on: the unfinished one of this strategy, or a new one."""
        self.store.latest().document.require(flag)
        scale = self.config.feature_flags.scale if scale is None else scale
        record = self.ledger.get(flag)
        if record is None or record.outcome != "in-progress" or record.strategy is not strategy:
            record = RolloutRecord(flag=flag, strategy=strategy, scale=scale)
        self.ledger.save(record)
        return record

    def plan(self, record: RolloutRecord) -> list[tuple[float, float]]:
        """The steps still to run: past ones (below the stored percentage, or done) skipped."""
        stored = self.store.latest().document.percentage(record.flag)
        done = {s.percent for s in record.steps if s.status == "done"}
        return [
            (percent, hold * record.scale)
            for percent, hold in SCHEDULES[record.strategy]
            if percent >= stored and percent not in done
        ]

    def step(self, record: RolloutRecord, percent: float, seconds: float) -> RolloutRecord:
        """Store the flag at `percent` and watch it for `seconds`; a breach turns it off."""
        flag = record.flag
        record.steps.append(StepEntry(percent=percent, status="intent"))
        self.ledger.save(record)
        number = self._store(flag, True, percent, f"{flag} at {percent:g} % ({record.strategy})")
        verdict = self._watch(flag, seconds)
        entry = StepEntry(percent=percent, status="done", version=number)
        if verdict is not None:
            entry = entry.model_copy(update=verdict)
        record.steps.append(entry)
        if entry.status == "breach":
            self._store(flag, False, 0, f"{flag} off by the gate: {entry.detail}")
            record.outcome = "disabled-by-gate"
            record.reason = f"at {percent:g} %: {entry.detail}"
        elif entry.status == "stopped":
            record.outcome, record.reason = "stopped", entry.detail
        if record.outcome != "in-progress":
            record.finished_at = datetime.now(UTC)
        self.ledger.save(record)
        return record

    def finish(self, record: RolloutRecord) -> RolloutRecord:
        if record.outcome == "in-progress":
            record.outcome = "enabled"
            record.finished_at = datetime.now(UTC)
            self.ledger.save(record)
        return record

    def enable(self, flag: str, strategy: Strategy, scale: float | None = None) -> RolloutRecord:
        record = self.begin(flag, strategy, scale)
        for percent, seconds in self.plan(record):
            record = self.step(record, percent, seconds)
            if record.outcome != "in-progress":
                return record
        return self.finish(record)

    def _watch(self, flag: str, seconds: float) -> dict | None:
        """Observe a step; the step's result fields, or None for a clean pass."""
        if seconds <= 0 or self.metrics is None:
            if seconds > 0:
                self.sleep(seconds)
            return None
        settings = self.config.feature_flags
        start = self._read(flag)
        started = time.monotonic()
        window = FlagSides()
        while time.monotonic() - started < seconds:
            self.sleep(min(settings.observe_interval_seconds, seconds))
            if not self.store.latest().document.enabled(flag):
                return {"status": "stopped", "detail": f"{flag} was disabled meanwhile"}
            now = self._read(flag)
            if now is None or start is None:
                start = start or now
                continue
            window = now - start
            if window.on.requests == 0 or window.off.requests == 0:
                continue
            decision = self.gate.evaluate(
                GateInput(
                    candidate=window.on,
                    stable=window.off,
                    slo=self.config.slo,
                    min_requests=settings.min_requests,
                    elapsed_seconds=time.monotonic() - started,
                )
            )
            if decision.verdict is Verdict.ROLLBACK:
                return {
                    "status": "breach",
                    "detail": decision.reason,
                    "on_requests": window.on.requests,
                    "off_requests": window.off.requests,
                }
        return {
            "status": "done",
            "on_requests": window.on.requests,
            "off_requests": window.off.requests,
        }

    def _read(self, flag: str) -> FlagSides | None:
        try:
            return self.metrics.read().get(flag, FlagSides())
        except MetricsUnavailable:
            return None
