"""An SLO report: each SLI per window, budget remaining, burn rates and alert states.

The numbers come from an `SliSource`; everything after the event counts (ratios, burn
rates, which of the workbook's conditions hold, time to exhaustion, when a spent budget
comes back) is computed here, so Prometheus's own rule outputs are an independent check.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from petswipe_ops.config import EnvironmentConfig, SloSpec, duration_seconds
from petswipe_ops.slo.source import EventSeries, SliSource
from petswipe_ops.slo.windows import CONDITIONS, Severity, window_name, windows_of

BURNDOWN_POINTS = 120
MIN_STEP_S = 60


class AlertState(StrEnum):
    OK = "ok"
    LOW = "budget low"
    TICKET = "ticket"
    PAGE = "page"
    NO_DATA = "no data"


class WindowBurn(BaseModel):
    window: str
    bad: float
    total: float
    error_ratio: float | None
    burn_rate: float | None


class SloStatus(BaseModel):
    name: str
    description: str
    objective: float
    window: str
    sli: float | None = Field(description="share of good events over the SLO's own window")
    requests: float = Field(description="events in the SLO's own window")
    budget_remaining: float | None = Field(description="1 = untouched, 0 = spent, < 0 = over")
    burns: dict[str, WindowBurn]
    firing: list[str] = Field(description="workbook conditions that hold, e.g. page 1h/5m")
    state: AlertState
    history_seconds: float = Field(description="how much of the SLO window has any data")
    exhaustion_seconds: float | None = Field(
        description="time to a spent budget at the current 1 h burn rate; None: not burning"
    )
    recovers_in_seconds: float | None = Field(
        None, description="spent budget only: when the window has dropped enough errors"
    )
    burndown: list[tuple[float, float]] = Field(
        default_factory=list, description="(time, budget remaining) over the SLO window"
    )

    @property
    def window_seconds(self) -> int:
        return duration_seconds(self.window)

    def burn(self, window: str) -> float | None:
        found = self.burns.get(window)
        return found.burn_rate if found else None

    @property
    def spent(self) -> bool:
        return self.budget_remaining is not None and self.budget_remaining <= 0


class SloReport(BaseModel):
    environment: str
    generated_at: datetime
    source: str
    slos: list[SloStatus]
    report_id: str = ""
    chart_path: str | None = None
    markdown_path: str | None = None

    def status(self, name: str) -> SloStatus:
        return next(s for s in self.slos if s.name == name)

    @property
    def worst_budget(self) -> float | None:
        known = [s.budget_remaining for s in self.slos if s.budget_remaining is not None]
        return min(known) if known else None


def step_for(window_seconds: int) -> int:
    return max(MIN_STEP_S, window_seconds // BURNDOWN_POINTS)


def firing_conditions(slo: SloSpec, burns: dict[str, WindowBurn]) -> list[str]:
    """The workbook conditions whose long and short windows both burn faster than theirs."""
    found = []
    for condition in CONDITIONS:
        long, short = burns[condition.long].burn_rate, burns[condition.short].burn_rate
        if None not in (long, short) and min(long, short) > condition.factor:  # type: ignore[type-var]
            found.append(f"{condition.severity.value} {condition.label}")
    return found


def alert_state(
    firing: list[str], budget_remaining: float | None, low_below: float, has_data: bool
) -> AlertState:
    if not has_data:
        return AlertState.NO_DATA
    if any(f.startswith(Severity.PAGE.value) for f in firing) or (
        budget_remaining is not None and budget_remaining <= 0
    ):
        return AlertState.PAGE
    if firing:
        return AlertState.TICKET
    if budget_remaining is not None and budget_remaining < low_below:
        return AlertState.LOW
    return AlertState.OK


def burndown(slo: SloSpec, series: EventSeries) -> list[tuple[float, float]]:
    """Budget left over the window as its errors accumulate: 1 at the start, today's at the end."""
    total = sum(series.total)
    if total <= 0:
        return []
    allowed = slo.budget * total
    points, spent = [], 0.0
    for at, bad in zip(series.times, series.bad, strict=True):
        spent += bad
        points.append((at, 1 - spent / allowed))
    return points


def recovery_seconds(slo: SloSpec, series: EventSeries, step: int) -> float | None:
    """How long, with no new errors and the same traffic, until the window is within budget.

    The oldest steps leave the window one by one while error-free steps at the mean rate
    join it; None when even the newest step alone is over budget.
    """
    if not series.times:
        return None
    mean_total = sum(series.total) / len(series.total)
    bad_left, total_left = sum(series.bad), sum(series.total)
    for k in range(len(series.times) + 1):
        if total_left + mean_total * k > 0 and bad_left <= slo.budget * (
            total_left + mean_total * k
        ):
            return float(k * step)
        if k < len(series.times):
            bad_left -= series.bad[k]
            total_left -= series.total[k]
    return None


def history_seconds(
    slo: SloSpec, source: SliSource, series: EventSeries, step: int, at: float
) -> float:
    """How far back the SLI has data: the first coarse step with events, refined per minute."""
    with_data = [t for t, n in zip(series.times, series.total, strict=True) if n > 0]
    if not with_data:
        return 0.0
    first = with_data[0]
    if first <= at - slo.window_seconds + step or step <= MIN_STEP_S:
        return at - first + step
    fine = source.series(slo, first - step + MIN_STEP_S, first, MIN_STEP_S)
    early = [t for t, n in zip(fine.times, fine.total, strict=True) if n > 0]
    return at - (early[0] if early else first) + MIN_STEP_S


def slo_status(config: EnvironmentConfig, slo: SloSpec, source: SliSource, at: float) -> SloStatus:
    burns: dict[str, WindowBurn] = {}
    for window in windows_of(slo):
        counts = source.counts(slo, duration_seconds(window), at)
        ratio = counts.error_ratio if counts else None
        burns[window] = WindowBurn(
            window=window,
            bad=counts.bad if counts else 0.0,
            total=counts.total if counts else 0.0,
            error_ratio=ratio,
            burn_rate=None if ratio is None else ratio / slo.budget,
        )
    own = burns[window_name(slo)]
    step = step_for(slo.window_seconds)
    series = source.series(slo, at - slo.window_seconds + step, at, step)
    history = history_seconds(slo, source, series, step, at)
    remaining = None if own.error_ratio is None else 1 - own.error_ratio / slo.budget
    firing = firing_conditions(slo, burns)
    hourly = burns["1h"].burn_rate
    exhaustion = None
    if remaining is not None and hourly:
        exhaustion = max(0.0, remaining) * slo.window_seconds / hourly
    return SloStatus(
        name=slo.name,
        description=slo.description,
        objective=slo.objective,
        window=slo.window,
        sli=None if own.error_ratio is None else 1 - own.error_ratio,
        requests=own.total,
        budget_remaining=remaining,
        burns=burns,
        firing=firing,
        state=alert_state(
            firing, remaining, config.slo_alerting.budget_low_below, own.error_ratio is not None
        ),
        history_seconds=min(float(slo.window_seconds), history),
        exhaustion_seconds=exhaustion,
        recovers_in_seconds=recovery_seconds(slo, series, step)
        if remaining is not None and remaining <= 0
        else None,
        burndown=burndown(slo, series),
    )


def build_report(
    config: EnvironmentConfig, source: SliSource, at: float | None = None
) -> SloReport:
    moment = time.time() if at is None else at
    return SloReport(
        environment=config.environment,
        generated_at=datetime.fromtimestamp(moment, UTC),
        source=source.name,
        slos=[slo_status(config, slo, source, moment) for slo in config.slos],
    )
