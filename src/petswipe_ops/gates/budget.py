"""Error-budget rules: no release on a spent budget, a stricter gate on a low one.

A release spends error budget on its canary. With nothing left, starting one would
knowingly breach the SLO, so it is refused before any traffic moves. With little left,
the gate keeps its false-rollback bound but asks for stronger evidence before it
promotes: the tightening factor below scales the gate's beta and smallest effects.
"""

from __future__ import annotations

import math

from petswipe_ops.errors import ConfigError, OpsError

MIN_FACTOR = 0.1


class ErrorBudgetExhausted(OpsError):
    """The service has no error budget left, so no release may start."""


def check_error_budget(remaining: float) -> None:
    """Refuse a release up front when the budget left (a fraction 0..1) is spent."""
    if math.isnan(remaining) or remaining > 1:
        raise ConfigError(
            f"the error budget left must be a fraction between 0 and 1, not {remaining}."
        )
    if remaining <= 0:
        raise ErrorBudgetExhausted(
            "The error budget is spent, so the release is refused; "
            "release again once the SLO window has earned budget back."
        )


def tightening(remaining: float | None, below: float) -> float:
    """How much to shrink beta and the smallest effects: 1 at `below` or more, down to 0.1.

    Proportional to the budget left under `below`, so half of it halves beta; the floor
    keeps a nearly spent budget from demanding an unbounded number of requests.
    """
    if remaining is None or remaining >= below:
        return 1.0
    check_error_budget(remaining)
    return max(MIN_FACTOR, remaining / below)
