"""A release rollback tells people why, on the ticket channels (and pages when asked)."""

from __future__ import annotations

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.notify.base import Alert, Delivery, NotificationError
from petswipe_ops.notify.channels import Channels, channels_for


def rollback_alert(config: EnvironmentConfig, release_id: str, version: str, reason: str) -> Alert:
    return Alert(
        key=f"release-{config.environment}-{release_id}",
        summary=f"release {version} to {config.environment} rolled back: {reason}",
        source=f"{config.service.name}/{config.environment}",
        severity="error",
        component=config.service.name,
        group=config.environment,
        kind="release-rollback",
        details={
            "environment": config.environment,
            "version": version,
            "reason": reason,
            "release_id": release_id,
        },
    )


def notify_rollback(
    config: EnvironmentConfig,
    *,
    release_id: str,
    version: str,
    reason: str,
    page: bool = False,
    channels: Channels | None = None,
) -> list[Delivery]:
    """Send the rollback and its reason; never raises, so a rollback is never held up by it.

    A failed channel comes back as an undelivered Delivery whose detail says why.
    """
    chosen = channels or channels_for(config)
    alert = rollback_alert(config, release_id, version, reason)
    deliveries: list[Delivery] = []
    for send in [chosen.ticket, chosen.page] if page else [chosen.ticket]:
        try:
            deliveries += send(alert)
        except NotificationError as exc:
            deliveries.append(Delivery(channel="failed", delivered=False, detail=str(exc)))
    if not deliveries:
        deliveries.append(Delivery(channel="log", delivered=False, detail=alert.summary))
    return deliveries
