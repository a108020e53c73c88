"""The release freeze: no release while an SLO's error budget is spent (Keptn's quality gate).

The guard reads the latest SLO report. A spent budget refuses the release with the figures
and when releases resume; a low one tells the gate to ask for stronger evidence; a person
may override a spent budget with a reason, which is recorded before the release goes on.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from petswipe_ops.config import EnvironmentConfig, load_environment
from petswipe_ops.errors import ConfigError, OpsError
from petswipe_ops.paths import project_root, run_dir
from petswipe_ops.slo import history
from petswipe_ops.slo.render import duration, percent
from petswipe_ops.slo.report import SloReport, SloStatus
from petswipe_ops.slo.windows import human

MAX_REPORT_AGE_S = 3600.0
# What an overridden freeze hands the gate: above zero, so the release may start, and
# low enough that the gate is at its strictest.
OVERRIDE_BUDGET = 0.001


class ErrorBudgetSpent(OpsError):
    """An SLO's error budget is spent, so no release may start without an override."""


class BudgetVerdict(BaseModel):
    environment: str
    budget_remaining: float | None
    """The lowest budget left over all SLOs (0..1), for the gate's tightening; None: unknown."""
    tighten: bool
    spent: list[str] = []
    overridden: bool = False
    override_reason: str | None = None
    report_id: str | None = None
    note: str


def overrides_path(environment: str) -> Path:
    return run_dir(environment) / "slo" / "overrides.jsonl"


def _resume(status: SloStatus) -> str:
    if status.recovers_in_seconds is not None:
        return (
            f"the {human(status.window)} window has dropped enough errors, in about "
            f"{duration(status.recovers_in_seconds)} without new ones"
        )
    return f"the errors of the last {human(status.window)} have left the window"


def spent_sentence(report: SloReport, spent: list[SloStatus]) -> str:
    figures = ", ".join(
        f"{s.name} {percent(s.sli, 2)} over {human(s.window)} against {percent(s.objective, 1)}"
        for s in spent
    )
    resume = "; ".join(_resume(s) for s in spent)
    return (
        f"error budget of {report.environment} spent: {figures}; releases resume when "
        f"{resume}, or release with an override reason."
    )


def _record_override(verdict: BudgetVerdict, figures: str) -> None:
    path = overrides_path(verdict.environment)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": verdict.environment,
        "reason": verdict.override_reason,
        "report_id": verdict.report_id,
        "spent": verdict.spent,
        "figures": figures,
    }
    with path.open("a") as out:
        out.write(json.dumps(entry) + "\n")


def check_release_budget(
    environment: str,
    override_reason: str | None = None,
    *,
    config: EnvironmentConfig | None = None,
    now: float | None = None,
    max_age_seconds: float = MAX_REPORT_AGE_S,
) -> BudgetVerdict:
    """The budget verdict of the latest SLO report, or ErrorBudgetSpent when it is spent.

    No report, or one older than `max_age_seconds`, is an unknown budget: the release
    goes on untightened and the verdict's note says why.
    """
    if override_reason is not None and not override_reason.strip():
        raise ConfigError("an error-budget override needs a reason; say why the release must go.")
    settings = config or load_environment(environment, project_root())
    below = settings.canary.sequential.budget_tighten_below
    report = history.latest(environment)
    moment = time.time() if now is None else now
    if report is None:
        return BudgetVerdict(
            environment=environment,
            budget_remaining=None,
            tighten=False,
            note=f"no SLO report of {environment} yet; the budget is unknown",
        )
    age = moment - report.generated_at.timestamp()
    if age > max_age_seconds:
        return BudgetVerdict(
            environment=environment,
            budget_remaining=None,
            tighten=False,
            report_id=report.report_id,
            note=f"the latest SLO report of {environment} is {duration(age)} old; "
            "the budget is unknown",
        )
    spent = [s for s in report.slos if s.spent]
    worst = report.worst_budget
    verdict = BudgetVerdict(
        environment=environment,
        budget_remaining=None if worst is None else max(0.0, worst),
        tighten=worst is not None and worst < below,
        spent=[s.name for s in spent],
        report_id=report.report_id,
        note=f"lowest budget left {percent(worst, 1)} (report {report.report_id})",
    )
    if not spent:
        return verdict
    sentence = spent_sentence(report, spent)
    if override_reason is None:
        raise ErrorBudgetSpent(sentence)
    verdict = verdict.model_copy(
        update={
            "overridden": True,
            "override_reason": override_reason.strip(),
            "budget_remaining": OVERRIDE_BUDGET,
            "tighten": True,
            "note": f"overridden ({override_reason.strip()}): {sentence}",
        }
    )
    _record_override(verdict, sentence)
    return verdict
