"""Flag analytics: every five minutes a snapshot of the flag metrics, and per flag the
usage, error rate and latency with the flag on against off over the last window."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from petswipe_ops.flags.metrics import FlagSides
from petswipe_ops.flags.model import FeatureFlags
from petswipe_ops.jsonfile import write_text_atomically
from petswipe_ops.metrics import VersionMetrics

KEEP_SNAPSHOTS = 2016  # a week of five-minute snapshots


class Snapshot(BaseModel):
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    flags: dict[str, FlagSides]


class SideFigures(BaseModel):
    requests: int
    error_rate: float
    p95_ms: float | None
    mean_ms: float | None

    @classmethod
    def of(cls, m: VersionMetrics) -> SideFigures:
        mean = m.latency_sum_seconds / m.observed * 1000 if m.observed else None
        return cls(
            requests=m.requests, error_rate=m.error_rate, p95_ms=m.quantile(0.95), mean_ms=mean
        )


class FlagFigures(BaseModel):
    flag: str
    enabled: bool
    rollout_percent: float
    on: SideFigures
    off: SideFigures

    @property
    def usage(self) -> float:
        total = self.on.requests + self.off.requests
        return self.on.requests / total if total else 0.0


class AnalyticsReport(BaseModel):
    environment: str
    window_start: datetime | None
    window_end: datetime
    flags: list[FlagFigures]


class AnalyticsStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.snapshots = folder / "snapshots.jsonl"
        self.report_path = folder / "report.json"

    def add(self, snapshot: Snapshot) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        lines = self.snapshots.read_text().splitlines() if self.snapshots.is_file() else []
        lines = [*lines, snapshot.model_dump_json()][-KEEP_SNAPSHOTS:]
        write_text_atomically(self.snapshots, "\n".join(lines) + "\n")

    def last(self, count: int) -> list[Snapshot]:
        if not self.snapshots.is_file():
            return []
        lines = self.snapshots.read_text().splitlines()[-count:]
        return [Snapshot.model_validate(json.loads(line)) for line in lines if line]

    def save(self, report: AnalyticsReport) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.report_path.write_text(report.model_dump_json(indent=2))


def build_report(
    environment: str, store: AnalyticsStore, document: FeatureFlags
) -> AnalyticsReport:
    """Figures over the window between the two newest snapshots (or since start-up)."""
    recent = store.last(2)
    newest = recent[-1] if recent else Snapshot(flags={})
    earlier = recent[0] if len(recent) == 2 else None
    rows = []
    for flag in sorted(document.flags):
        now = newest.flags.get(flag, FlagSides())
        window = now - earlier.flags.get(flag, FlagSides()) if earlier else now
        rows.append(
            FlagFigures(
                flag=flag,
                enabled=document.enabled(flag),
                rollout_percent=document.percentage(flag),
                on=SideFigures.of(window.on),
                off=SideFigures.of(window.off),
            )
        )
    return AnalyticsReport(
        environment=environment,
        window_start=earlier.at if earlier else None,
        window_end=newest.at,
        flags=rows,
    )


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def render_report(report: AnalyticsReport) -> str:
    since = report.window_start.isoformat(timespec="seconds") if report.window_start else "start"
    lines = [
        f"# Feature-flag analytics: {report.environment}",
        "",
        f"Window: {since} → {report.window_end.isoformat(timespec='seconds')}",
        "",
        "| flag | state | rollout % | usage (on share) | requests on / off | "
        "error rate on / off | p95 ms on / off | mean ms on / off |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in report.flags:
        lines.append(
            f"| {f.flag} | {'on' if f.enabled else 'off'} | {f.rollout_percent:g} | "
            f"{f.usage:.1%} | {f.on.requests} / {f.off.requests} | "
            f"{f.on.error_rate:.2%} / {f.off.error_rate:.2%} | "
            f"{_ms(f.on.p95_ms)} / {_ms(f.off.p95_ms)} | "
            f"{_ms(f.on.mean_ms)} / {_ms(f.off.mean_ms)} |"
        )
    return "\n".join(lines) + "\n"
