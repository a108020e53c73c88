"""Notifications: the `Notifier` seam (base), PagerDuty, Slack and SNS behind it.

`notify()` below is the plain-text webhook of failed scheduled operations (backups, DR
drills). The webhook URL is a secret (it grants posting), so it comes from an environment
variable and is never logged; without one, the caller logs the message instead.
"""

from __future__ import annotations

import os

import httpx
from pydantic import BaseModel

from petswipe_ops import http_client
from petswipe_ops.errors import OpsError


class Notification(BaseModel):
    text: str
    delivered: bool
    channel: str


def notify(text: str, webhook_env: str) -> Notification:
    """Post `text` to the webhook in `webhook_env`; report whether it was delivered."""
    url = os.environ.get(webhook_env, "").strip()
    if not url:
        return Notification(text=text, delivered=False, channel="log")
    check_webhook_url(url, webhook_env)
    try:
        response = http_client.post(url, json={"text": text}, timeout=10)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise OpsError(
            f"the notification webhook in {webhook_env} did not accept the message "
            f"({type(exc).__name__}); check the URL."
        ) from None
    return Notification(text=text, delivered=True, channel="webhook")


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_webhook_url(url: str, webhook_env: str) -> None:
    """An https URL with a host (plain http only to this machine); the message never holds
    the URL, which is the secret."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        parsed = None
    secure = parsed is not None and (
        parsed.scheme == "https" or (parsed.scheme == "http" and parsed.host in LOOPBACK)
    )
    if not secure or not parsed.host or any(c.isspace() or not c.isprintable() for c in url):
        raise OpsError(
            f"the notification webhook in {webhook_env} is not an https URL with a host; "
            "set it to the incoming-webhook URL your chat tool gave you."
        )
