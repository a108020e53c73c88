"""Which channels an environment's alerts go to, from its config and its secrets.

Pages go to PagerDuty; tickets, low budgets and rollbacks go to Slack and, on AWS, SNS.
A channel without its secret is left out, and an alert with no channel is logged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pydantic import SecretStr

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.notify.base import Alert, Delivery, NotificationError, Notifier
from petswipe_ops.notify.pagerduty import PagerDutyNotifier
from petswipe_ops.notify.slack import SlackNotifier
from petswipe_ops.notify.sns import SnsNotifier, sns_client


@dataclass
class Channels:
    pager: Notifier | None = None
    tickets: list[Notifier] = field(default_factory=list)

    def page(self, alert: Alert) -> list[Delivery]:
        return [self.pager.send(alert)] if self.pager else []

    def ticket(self, alert: Alert) -> list[Delivery]:
        """Send to every ticket channel; one failing channel does not stop the others."""
        sent, failed = [], []
        for notifier in self.tickets:
            try:
                sent.append(notifier.send(alert))
            except NotificationError as exc:
                failed.append(str(exc))
        if failed and not sent:
            raise NotificationError(" ".join(failed))
        return sent + [Delivery(channel="failed", delivered=False, detail=f) for f in failed]


def secret_from_env(name: str) -> SecretStr | None:
    value = os.environ.get(name, "").strip()
    return SecretStr(value) if value else None


def channels_for(
    config: EnvironmentConfig,
    *,
    routing_key: SecretStr | None = None,
    slack_webhook: SecretStr | None = None,
) -> Channels:
    """Channels of `config`; secrets default to the variables the config names."""
    settings = config.slo_alerting
    pd = settings.pagerduty
    key = routing_key or secret_from_env(pd.routing_key_env)
    webhook = slack_webhook or secret_from_env(settings.slack_webhook_env)
    channels = Channels()
    if key is not None:
        channels.pager = PagerDutyNotifier(
            key,
            events_url=pd.events_url,
            timeout=pd.timeout_seconds,
            attempts=pd.attempts,
            backoff_seconds=pd.backoff_seconds,
        )
    if webhook is not None:
        channels.tickets.append(SlackNotifier(webhook))
    if settings.sns_topic_arn:
        region = config.aws.region if config.aws else os.environ.get("AWS_REGION", "us-east-1")
        channels.tickets.append(SnsNotifier(settings.sns_topic_arn, sns_client(region)))
    return channels
