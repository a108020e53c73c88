"""Every scenario run kept on disk, and the comparison with the last good run.

One JSON file per run under `<run_dir>/load_tests/results/<scenario>/<time>-<version>.json`:
plain files a person can diff or copy, ordered by name, and pruned by age.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field

from petswipe_ops.config import LoadTestSettings
from petswipe_ops.jsonfile import write_atomically
from petswipe_ops.loadtest.runner import Outcome
from petswipe_ops.loadtest.summary import LoadSummary

SAFE = re.compile(r"[^0-9A-Za-z.+_-]")


class Regression(BaseModel):
    """How a run compares with the last passing run of its scenario at the same scale."""

    baseline_version: str
    baseline_started_at: datetime
    p95_ms: float
    baseline_p95_ms: float
    error_rate: float
    baseline_error_rate: float
    flagged: bool
    reasons: list[str] = Field(default_factory=list)

    def sentence(self) -> str:
        if not self.flagged:
            return (
                f"within tolerance of {self.baseline_version} "
                f"(p95 {self.p95_ms:.1f} vs {self.baseline_p95_ms:.1f} ms)"
            )
        return "; ".join(self.reasons)


class ScenarioRun(BaseModel):
    """One scenario run of a campaign, as stored and reported."""

    scenario: str
    environment: str
    version: str
    target: str
    started_at: datetime
    scale: float
    rate_scale: float
    outcome: Outcome
    exit_code: int
    message: str
    aborted: bool = False
    summary: LoadSummary | None = None
    wall_seconds: float = 0.0
    log_path: str = ""
    regression: Regression | None = None

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED

    @property
    def failed_thresholds(self) -> list[str]:
        return [t.name for t in self.summary.failed_thresholds] if self.summary else []


def compare(run: ScenarioRun, baseline: ScenarioRun, settings: LoadTestSettings) -> Regression:
    """Flag p95 latency or error rate worse than the baseline beyond the tolerance.

    p95 must grow by more than `p95_tolerance` (relative) *and* by more than
    `p95_tolerance_ms`, so the jitter of a few-millisecond loopback service is not
    a regression; the error rate by more than `error_rate_tolerance` (absolute).
    """
    assert run.summary and run.summary.latency and baseline.summary and baseline.summary.latency
    now, base = run.summary, baseline.summary
    p95, base_p95 = now.latency.p95, base.latency.p95
    reasons = []
    limit = max(base_p95 * (1 + settings.p95_tolerance), base_p95 + settings.p95_tolerance_ms)
    if p95 > limit:
        growth = p95 / base_p95 - 1 if base_p95 > 0 else float("inf")
        reasons.append(
            f"p95 {p95:.1f} ms is {growth:.0%} above {base_p95:.1f} ms of "
            f"{baseline.version} (tolerance {settings.p95_tolerance:.0%} and "
            f"{settings.p95_tolerance_ms:g} ms)"
        )
    if now.error_rate > base.error_rate + settings.error_rate_tolerance:
        reasons.append(
            f"error rate {now.error_rate:.2%} is above {base.error_rate:.2%} of "
            f"{baseline.version} by more than {settings.error_rate_tolerance:.2%}"
        )
    return Regression(
        baseline_version=baseline.version,
        baseline_started_at=baseline.started_at,
        p95_ms=p95,
        baseline_p95_ms=base_p95,
        error_rate=now.error_rate,
        baseline_error_rate=base.error_rate,
        flagged=bool(reasons),
        reasons=reasons,
    )


class ResultStore:
    """The stored runs of one environment."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, run: ScenarioRun) -> Path:
        stamp = run.started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return self.directory / run.scenario / f"{stamp}-{SAFE.sub('_', run.version)}.json"

    def save(self, run: ScenarioRun) -> Path:
        target = self.path(run)
        write_atomically(target, run)
        return target

    def history(self, scenario: str) -> list[ScenarioRun]:
        """Runs of `scenario`, oldest first."""
        folder = self.directory / scenario
        if not folder.is_dir():
            return []
        runs = [ScenarioRun.model_validate_json(p.read_text()) for p in folder.glob("*.json")]
        return sorted(runs, key=lambda r: r.started_at)

    def baseline(self, run: ScenarioRun) -> ScenarioRun | None:
        """The last passing run before `run` of the same scenario, scale and rate scale."""
        earlier = [
            r
            for r in self.history(run.scenario)
            if r.passed
            and r.started_at < run.started_at
            and r.scale == run.scale
            and r.rate_scale == run.rate_scale
            and r.summary is not None
            and r.summary.latency is not None
        ]
        return earlier[-1] if earlier else None

    def prune(self, retention_days: int, now: datetime | None = None) -> list[Path]:
        """Delete runs older than the retention, but never a scenario's latest passing
        run: it is the baseline the next run is compared with."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
        removed = []
        for folder in sorted(p for p in self.directory.glob("*") if p.is_dir()):
            runs = self.history(folder.name)
            keep = next((r for r in reversed(runs) if r.passed), None)
            for run in runs:
                if run.started_at < cutoff and run is not keep:
                    path = self.path(run)
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed
