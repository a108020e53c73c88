"""The SRE workbook's multi-window, multi-burn-rate alerts, as data.

Each condition pairs a long window (is the budget really burning?) with a short one
(is it still burning now?), so an alert fires fast on a real burn and clears within
minutes of the burn stopping. Burn rate 1 spends exactly the budget over 30 days.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from petswipe_ops.config import SloSpec, duration_seconds

RATIO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")


class Severity(StrEnum):
    PAGE = "page"
    TICKET = "ticket"


class BurnCondition(BaseModel):
    """Fires when both windows burn at `factor` times the budget or faster."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    factor: float
    long: str
    short: str

    @property
    def label(self) -> str:
        return f"{self.long}/{self.short}"


CONDITIONS = (
    BurnCondition(severity=Severity.PAGE, factor=14.4, long="1h", short="5m"),
    BurnCondition(severity=Severity.PAGE, factor=6, long="6h", short="30m"),
    BurnCondition(severity=Severity.TICKET, factor=3, long="1d", short="2h"),
    BurnCondition(severity=Severity.TICKET, factor=1, long="3d", short="6h"),
)


def windows_of(slo: SloSpec) -> list[str]:
    """The ratio windows recorded for `slo`: the alert windows plus its own window."""
    found = list(RATIO_WINDOWS)
    if not any(duration_seconds(w) == slo.window_seconds for w in found):
        found.append(slo.window)
    return sorted(found, key=duration_seconds)


def window_name(slo: SloSpec) -> str:
    """The recorded window equal to the SLO's own (24h is recorded as 1d)."""
    return next(w for w in windows_of(slo) if duration_seconds(w) == slo.window_seconds)


def human(window: str) -> str:
    """`30d` → `30 d`, as sentences print it."""
    return f"{window[:-1]} {window[-1]}"
