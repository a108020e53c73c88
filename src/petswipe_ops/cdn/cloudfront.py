"""CloudFront invalidation through boto3: create_invalidation, then its waiter.

The waiter is botocore's own `invalidation_completed` definition with one more success
acceptor: moto server (5.2) reports the status as `COMPLETED` where CloudFront says
`Completed`, and the stock waiter would poll it until it gives up.
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client

from petswipe_ops.errors import OpsError

BOTO_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard"})


class CloudFrontError(OpsError):
    """CloudFront refused or did not finish an invalidation."""


def client(region: str) -> Any:
    return boto3.client("cloudfront", region_name=region, config=BOTO_CONFIG)


def completed_waiter(cf: Any) -> Any:
    """botocore's invalidation_completed waiter, also accepting moto's upper-case status."""
    name = "InvalidationCompleted"
    config = dict(cf.get_waiter("invalidation_completed").config._config)
    acceptors = list(config["acceptors"])
    acceptors.append({**acceptors[0], "expected": acceptors[0]["expected"].upper()})
    model = WaiterModel({"version": 2, "waiters": {name: {**config, "acceptors": acceptors}}})
    return create_waiter_with_client(name, model, cf)


def invalidate(
    distribution_id: str,
    paths: list[str],
    *,
    region: str = "us-east-1",
    cf: Any | None = None,
    delay_s: int = 20,
    max_attempts: int = 60,
) -> str:
    """Invalidate `paths` on the distribution and wait until CloudFront says Completed."""
    cf = cf or client(region)
    try:
        created = cf.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                "CallerReference": f"petswipe-{uuid.uuid4()}",
            },
        )
        invalidation_id = created["Invalidation"]["Id"]
        completed_waiter(cf).wait(
            DistributionId=distribution_id,
            Id=invalidation_id,
            WaiterConfig={"Delay": delay_s, "MaxAttempts": max_attempts},
        )
    except WaiterError:
        raise CloudFrontError(
            f"the invalidation on distribution {distribution_id} did not complete within "
            f"{delay_s * max_attempts} s; check it in the CloudFront console."
        ) from None
    except (ClientError, BotoCoreError) as exc:
        code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
        raise CloudFrontError(
            f"CloudFront refused the invalidation on {distribution_id} ({code}); check the "
            "distribution id (cdn.cloudfront_distribution_id) and the role's permissions."
        ) from None
    return invalidation_id
