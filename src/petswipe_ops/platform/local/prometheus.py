"""MetricsSource that scrapes each version's own /metrics endpoint."""

from __future__ import annotations

import httpx

from petswipe_ops import http_client
from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.metrics import VersionMetrics, parse_prometheus
from petswipe_ops.platform.seams import VersionInstance


class PrometheusScraper:
    def __init__(self, path: str = "/metrics", timeout: float = 2.0) -> None:
        self.path = path
        self.timeout = timeout

    def read(self, instance: VersionInstance) -> VersionMetrics:
        try:
            reply = http_client.get(instance.endpoint + self.path, timeout=self.timeout)
            reply.raise_for_status()
        except httpx.HTTPError as exc:
            raise MetricsUnavailable(
                f"could not read metrics of version {instance.version} at "
                f"{instance.endpoint}{self.path}: {exc}."
            ) from exc
        return parse_prometheus(reply.text)
