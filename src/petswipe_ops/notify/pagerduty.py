"""PagerDuty Events API v2: trigger and resolve by deduplication key.

The routing key grants opening incidents, so it is a SecretStr that reaches only the
request body. 429 and 5xx are PagerDuty asking to try again later: retried with an
exponential backoff. A 400 is an event PagerDuty will never accept: one sentence, no retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from petswipe_ops import http_client
from petswipe_ops.notify.base import Action, Alert, Delivery, NotificationError

DEFAULT_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
MAX_SUMMARY = 1024
MAX_RETRY_AFTER_S = 60.0


def event_body(alert: Alert, routing_key: SecretStr) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": routing_key.get_secret_value(),
        "event_action": alert.action.value,
        "dedup_key": alert.key,
    }
    if alert.action is Action.RESOLVE:
        return body
    payload: dict[str, Any] = {
        "summary": alert.summary[:MAX_SUMMARY],
        "source": alert.source,
        "severity": alert.severity,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "custom_details": alert.details,
    }
    for field, value in (("component", alert.component), ("group", alert.group)):
        if value:
            payload[field] = value
    if alert.kind:
        payload["class"] = alert.kind
    body["payload"] = payload
    if alert.link:
        body["links"] = [{"href": alert.link, "text": alert.link_text or "report"}]
    return body


def _reason(reply: httpx.Response) -> str:
    try:
        data = reply.json()
    except ValueError:
        return reply.text[:200] or "no reason given"
    errors = data.get("errors") or []
    message = data.get("message") or "no reason given"
    return f"{message}: {'; '.join(map(str, errors))}" if errors else message


class PagerDutyNotifier:
    channel = "pagerduty"

    def __init__(
        self,
        routing_key: SecretStr,
        *,
        events_url: str = DEFAULT_EVENTS_URL,
        timeout: float = 10.0,
        attempts: int = 5,
        backoff_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not routing_key.get_secret_value().strip():
            raise NotificationError(
                "the PagerDuty routing key is empty; set it in the secret store."
            )
        self.routing_key = routing_key
        self.events_url = events_url
        self.timeout = timeout
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.sleep = sleep

    def _delay(self, attempt: int, reply: httpx.Response | None) -> float:
        header = reply.headers.get("retry-after") if reply is not None else None
        if header and header.isdigit():
            return min(float(header), MAX_RETRY_AFTER_S)
        return self.backoff_seconds * 2**attempt

    def send(self, alert: Alert) -> Delivery:
        body = event_body(alert, self.routing_key)
        last = "no answer"
        for attempt in range(self.attempts):
            reply: httpx.Response | None = None
            try:
                reply = http_client.post(self.events_url, json=body, timeout=self.timeout)
            except httpx.TransportError as exc:
                last = type(exc).__name__
            else:
                if reply.status_code in (200, 201, 202):
                    return Delivery(channel=self.channel, delivered=True, detail=alert.key)
                if reply.status_code == 400:
                    raise NotificationError(
                        f"PagerDuty rejected the {alert.action.value} event {alert.key} "
                        f"(400: {_reason(reply)}); check the routing key and the event's fields."
                    )
                if reply.status_code != 429 and reply.status_code < 500:
                    raise NotificationError(
                        f"PagerDuty answered {reply.status_code} to the {alert.action.value} "
                        f"event {alert.key}; check pagerduty.events_url."
                    )
                last = f"HTTP {reply.status_code}"
            if attempt + 1 < self.attempts:
                self.sleep(self._delay(attempt, reply))
        raise NotificationError(
            f"PagerDuty did not take the {alert.action.value} event {alert.key} after "
            f"{self.attempts} tries (last: {last}); the next report sends it again."
        )
