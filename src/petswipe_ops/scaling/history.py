"""Where request-rate history comes from: one small interface, three sources.

Prometheus (the local sandbox's, through its HTTP API), CloudWatch (the ALB's
RequestCount, in platform/aws) or a JSON file of points, for a history recorded elsewhere.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx

from petswipe_ops import http_client
from petswipe_ops.errors import ConfigError, ExternalCommandError
from petswipe_ops.scaling.forecast import Point

MAX_PROMETHEUS_POINTS = 11000  # Prometheus refuses ranges of more than 11 000 steps


class RequestRateHistory(Protocol):
    def request_rate(self, start: datetime, end: datetime, step_seconds: int) -> list[Point]:
        """Requests per second from `start` to `end`, one point per `step_seconds`."""
        ...


class PrometheusRequestRate:
    def __init__(self, url: str, query: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.query = query
        self.timeout = timeout

    def request_rate(self, start: datetime, end: datetime, step_seconds: int) -> list[Point]:
        points: list[Point] = []
        span = step_seconds * MAX_PROMETHEUS_POINTS
        cursor = start.timestamp()
        while cursor < end.timestamp():
            until = min(end.timestamp(), cursor + span)
            params = {"query": self.query, "start": cursor, "end": until, "step": step_seconds}
            try:
                reply = http_client.get(
                    f"{self.url}/api/v1/query_range", params=params, timeout=self.timeout
                )
                reply.raise_for_status()
                body = reply.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise ExternalCommandError(
                    f"Prometheus at {self.url} did not answer the request-rate query ({exc}); "
                    "start it or set scaling.prometheus_url."
                ) from exc
            for series in body.get("data", {}).get("result", []):
                points += [
                    Point(at=datetime.fromtimestamp(float(t), UTC), value=float(v))
                    for t, v in series.get("values", [])
                ]
            cursor = until + step_seconds
        return sorted(points, key=lambda p: p.at)


class FileRequestRate:
    def __init__(self, path: Path) -> None:
        self.path = path

    def request_rate(self, start: datetime, end: datetime, step_seconds: int) -> list[Point]:
        try:
            raw = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"request-rate history {self.path} cannot be read as JSON ({exc}); "
                'write a list of {"at": ISO time, "value": requests/s}.'
            ) from exc
        points = [Point.model_validate(item) for item in raw]
        return [p for p in points if start <= p.at <= end]
