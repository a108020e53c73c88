"""From report to notifications: one incident per breach, resolved when it clears.

Every 15-minute report sees a breach again, so what was sent is kept per environment and
SLO in the run folder. The intent is written before a channel is called and the result
after, so an interrupted run sends the same event (same dedup key) again, never a second
incident.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.jsonfile import write_text_atomically
from petswipe_ops.notify.base import Action, Alert, Delivery, NotificationError
from petswipe_ops.notify.channels import Channels
from petswipe_ops.paths import run_dir
from petswipe_ops.slo.render import burn, percent
from petswipe_ops.slo.report import AlertState, SloReport, SloStatus
from petswipe_ops.slo.windows import RATIO_WINDOWS, human


class Phase(StrEnum):
    CLEAR = "clear"
    TRIGGERING = "triggering"
    OPEN = "open"
    RESOLVING = "resolving"


class SloAlertState(BaseModel):
    page: Phase = Phase.CLEAR
    ticket: Phase = Phase.CLEAR


class AlertEvent(BaseModel):
    slo: str
    kind: str
    action: Action
    deliveries: list[Delivery] = []
    error: str | None = None


def state_path(environment: str) -> Path:
    return run_dir(environment) / "slo" / "alert-state.json"


def load_state(path: Path) -> dict[str, SloAlertState]:
    if not path.is_file():
        return {}
    return {k: SloAlertState.model_validate(v) for k, v in json.loads(path.read_text()).items()}


def save_state(path: Path, state: dict[str, SloAlertState]) -> None:
    write_text_atomically(path, json.dumps({k: v.model_dump() for k, v in state.items()}))


def dedup_key(environment: str, slo: str) -> str:
    return f"petswipe-slo-{environment}-{slo}"


def report_link(config: EnvironmentConfig, report: SloReport) -> str | None:
    base = config.slo_alerting.report_base_url
    if base:
        return f"{base.rstrip('/')}/{report.report_id}.md"
    return f"file://{report.markdown_path}" if report.markdown_path else None


def describe(status: SloStatus) -> str:
    firing = f" ({', '.join(status.firing)})" if status.firing else ""
    hourly = burn(status.burn("1h"))
    return (
        f"{status.name} at {percent(status.sli, 3)} against {percent(status.objective, 2)} "
        f"over {human(status.window)}, burning {hourly} over 1 h{firing}; "
        f"{percent(status.budget_remaining, 1)} of the budget left"
    )


def slo_alert(
    config: EnvironmentConfig,
    report: SloReport,
    status: SloStatus,
    *,
    action: Action,
    page: bool,
) -> Alert:
    key = dedup_key(config.environment, status.name)
    return Alert(
        action=action,
        key=key if page else f"{key}-ticket",
        summary=f"{config.environment}: {describe(status)}",
        source=f"{config.service.name}/{config.environment}",
        severity="critical" if page else "warning",
        component=config.service.name,
        group=config.environment,
        kind="slo-burn" if status.firing else "slo-budget",
        details={
            "environment": config.environment,
            "slo": status.name,
            "objective": status.objective,
            "window": status.window,
            "sli": status.sli,
            "budget_remaining": status.budget_remaining,
            "state": status.state.value,
            "firing": status.firing,
            "burn_rates": {w: status.burn(w) for w in RATIO_WINDOWS},
            "report_id": report.report_id,
        },
        link=report_link(config, report),
        link_text=f"SLO report {report.report_id}",
    )


def _step(
    phase: Phase, wanted: bool, send, alert_for, save, kind: str, slo: str
) -> tuple[Phase, AlertEvent | None]:
    """Advance one channel kind of one SLO: trigger on entering, resolve on leaving."""
    if wanted and phase in (Phase.CLEAR, Phase.TRIGGERING, Phase.RESOLVING):
        action, pending, done = Action.TRIGGER, Phase.TRIGGERING, Phase.OPEN
    elif not wanted and phase in (Phase.OPEN, Phase.TRIGGERING, Phase.RESOLVING):
        action, pending, done = Action.RESOLVE, Phase.RESOLVING, Phase.CLEAR
    else:
        return phase, None
    save(pending)
    event = AlertEvent(slo=slo, kind=kind, action=action)
    try:
        event.deliveries = send(alert_for(action))
    except NotificationError as exc:
        event.error = str(exc)
        return pending, event
    save(done)
    return done, event


def dispatch(
    config: EnvironmentConfig, report: SloReport, channels: Channels, path: Path | None = None
) -> list[AlertEvent]:
    """Send what changed since the last report; returns each event sent (or failed)."""
    where = path or state_path(config.environment)
    state = load_state(where)
    events = []
    for status in report.slos:
        if status.state is AlertState.NO_DATA:
            continue
        current = state.setdefault(status.name, SloAlertState())
        for kind, wanted, send in (
            ("page", status.state is AlertState.PAGE, channels.page),
            ("ticket", status.state in (AlertState.TICKET, AlertState.LOW), channels.ticket),
        ):

            def save(phase: Phase, kind: str = kind, current: SloAlertState = current) -> None:
                setattr(current, kind, phase)
                save_state(where, state)

            def alert_for(action: Action, kind: str = kind, status: SloStatus = status) -> Alert:
                return slo_alert(config, report, status, action=action, page=kind == "page")

            phase, event = _step(
                getattr(current, kind), wanted, send, alert_for, save, kind, status.name
            )
            setattr(current, kind, phase)
            if event is not None:
                events.append(event)
    save_state(where, state)
    return events
