"""boto3 clients with the project's timeouts and standard-mode retries, for one endpoint.

`endpoint_url` None means AWS itself (boto3 still honours AWS_ENDPOINT_URL); the AWS
sandbox passes its moto server's URL. Regions are checked against botocore's own
endpoint data up front, so a typo is one sentence rather than a DNS failure later.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import boto3
from botocore.config import Config

from petswipe_ops.platform.aws.errors import AwsError

CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 20
MAX_ATTEMPTS = 4
# At DEBUG these loggers write whole request and response bodies, which carry secret values
# (GetSecretValue, the DATABASE_URL); they never go below INFO, whatever the root level.
BODY_LOGGERS = ("botocore.parsers", "botocore.endpoint", "botocore.auth", "urllib3.connectionpool")


def client_config(max_attempts: int = MAX_ATTEMPTS) -> Config:
    return Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"mode": "standard", "max_attempts": max_attempts},
    )


@functools.cache
def known_regions() -> frozenset[str]:
    session = boto3.session.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions |= set(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(regions)


def check_region(region: str, field: str = "aws.region") -> str:
    if region not in known_regions():
        raise AwsError(
            f"'{region}' is not an AWS region botocore knows; set {field} in the environment "
            "file to a real region such as us-east-1."
        )
    return region


class AwsClients:
    """Creates (and caches) one client per service and region."""

    def __init__(
        self,
        region: str,
        *,
        endpoint_url: str | None = None,
        credentials: dict[str, str] | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        check_region(region)
        for name in BODY_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)
        self.region = region
        self.endpoint_url = endpoint_url
        self.session = boto3.session.Session(**(credentials or {}))
        self.config = client_config(max_attempts)
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self._clients:
            check_region(key[1], "aws.dr_region")
            self._clients[key] = self.session.client(
                service, region_name=key[1], endpoint_url=self.endpoint_url, config=self.config
            )
        return self._clients[key]


def client(service: str, region: str) -> Any:
    """A single client with the same timeouts and retries, where no AwsClients is at hand."""
    return boto3.client(service, region_name=region, config=client_config())
