"""Invalidate paths on an environment's edge cache: Varnish bans locally, CloudFront on AWS.

`invalidate_release_paths` is what a release's finalize stage calls: it invalidates the
paths `cdn.invalidate_on_release` names in deployments/<env>.yaml, and does nothing when
there are none.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from petswipe_ops.cdn.paths import check_paths
from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import ConfigError


class InvalidationResult(BaseModel):
    environment: str
    cache: str
    paths: list[str]
    reference: str = Field(description="CloudFront invalidation id, or the Varnish bans")
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def invalidate(config: EnvironmentConfig, paths: list[str]) -> InvalidationResult:
    checked = check_paths(paths)
    if config.aws is not None:
        from petswipe_ops.cdn import cloudfront

        distribution = config.cdn.cloudfront_distribution_id
        if not distribution:
            raise ConfigError(
                f"environment '{config.environment}' has no cdn.cloudfront_distribution_id; "
                "set it in its deployments file."
            )
        reference = cloudfront.invalidate(distribution, checked, region=config.aws.region)
        return InvalidationResult(
            environment=config.environment, cache="cloudfront", paths=checked, reference=reference
        )
    from petswipe_ops.platform.local.sandbox import LocalSandbox

    bans = LocalSandbox(config).cdn.ban(checked)
    return InvalidationResult(
        environment=config.environment, cache="varnish", paths=checked, reference="; ".join(bans)
    )


def invalidate_release_paths(config: EnvironmentConfig) -> InvalidationResult | None:
    """For the release's finalize stage: invalidate `cdn.invalidate_on_release`, if any.

    Locally nothing happens unless `cdn.enabled` is set, since there is no cache to empty.
    """
    paths = config.cdn.invalidate_on_release
    if not paths or (config.local is not None and not config.cdn.enabled):
        return None
    return invalidate(config, paths)
