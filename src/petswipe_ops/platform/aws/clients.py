"""boto3 clients with timeouts and standard retries; the endpoint follows AWS_ENDPOINT_URL."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard"})


def client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, config=CLIENT_CONFIG)
