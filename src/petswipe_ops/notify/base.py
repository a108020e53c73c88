"""The `Notifier` seam: one alert event in, one delivery out, whatever the channel.

An alert carries a stable key (one per environment and SLO, or per release), so a channel
that deduplicates (PagerDuty) keeps one incident per breach and resolves that same one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from petswipe_ops.errors import OpsError


class NotificationError(OpsError):
    """A channel refused or could not take a notification."""


class Action(StrEnum):
    TRIGGER = "trigger"
    RESOLVE = "resolve"


class Alert(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: Action = Action.TRIGGER
    key: str = Field(min_length=1, max_length=255, description="deduplication key")
    summary: str = Field(min_length=1)
    source: str = Field(min_length=1, description="what is affected, e.g. petswipe-api/local")
    severity: Literal["critical", "error", "warning", "info"] = "error"
    component: str | None = None
    group: str | None = None
    kind: str | None = Field(None, description="the class of the event, e.g. slo-burn")
    details: dict[str, Any] = Field(default_factory=dict)
    link: str | None = None
    link_text: str | None = None


class Delivery(BaseModel):
    channel: str
    delivered: bool
    detail: str = ""


@runtime_checkable
class Notifier(Protocol):
    """Sends alerts to one channel; raises NotificationError with one sentence on failure."""

    channel: str

    def send(self, alert: Alert) -> Delivery: ...


class LogNotifier:
    """What remains when no channel is configured: the caller logs the alert."""

    channel = "log"

    def __init__(self) -> None:
        self.sent: list[Alert] = []

    def send(self, alert: Alert) -> Delivery:
        self.sent.append(alert)
        return Delivery(channel=self.channel, delivered=False, detail=alert.summary)
