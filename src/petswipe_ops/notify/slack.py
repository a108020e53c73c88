"""Slack incoming webhook: tickets, low budgets and rollbacks as one message each."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from petswipe_ops import http_client
from petswipe_ops.notify.base import Action, Alert, Delivery, NotificationError

ICONS = {"critical": ":rotating_light:", "error": ":red_circle:", "warning": ":warning:"}


def message_text(alert: Alert) -> str:
    if alert.action is Action.RESOLVE:
        head = f":white_check_mark: resolved: {alert.summary}"
    else:
        head = f"{ICONS.get(alert.severity, ':information_source:')} {alert.summary}"
    facts = [f"{k}: {v}" for k, v in alert.details.items() if not isinstance(v, dict | list)]
    link = [f"<{alert.link}|{alert.link_text or 'report'}>"] if alert.link else []
    return "\n".join([head, *facts, *link])


class SlackNotifier:
    channel = "slack"

    def __init__(self, webhook_url: SecretStr, *, timeout: float = 10.0) -> None:
        self.webhook_url = webhook_url
        self.timeout = timeout

    def send(self, alert: Alert) -> Delivery:
        try:
            reply = http_client.post(
                self.webhook_url.get_secret_value(),
                json={"text": message_text(alert)},
                timeout=self.timeout,
            )
            reply.raise_for_status()
        except httpx.HTTPError as exc:
            raise NotificationError(
                f"the Slack webhook did not accept the message about {alert.key} "
                f"({type(exc).__name__}); check the webhook URL."
            ) from None
        return Delivery(channel=self.channel, delivered=True, detail=alert.key)
