"""The deployment manifest: what the policies judge before anything is applied."""

from __future__ import annotations

from typing import Any

from petswipe_ops.config import EnvironmentConfig


def build_manifest(
    config: EnvironmentConfig, version: str, *, monthly_cost_usd: float | None = None
) -> dict[str, Any]:
    """Describe the release of `version` to `config`'s environment as plain data.

    `monthly_cost_usd` is the plan's estimate (petswipe_ops.cost); the resource-limits
    policy judges it. Without a plan the environment file's declared figure stands in.
    """
    estimated = monthly_cost_usd is not None
    service = config.service
    registry, _, repository = service.image.partition("/")
    return {
        "environment": config.environment,
        "platform": config.platform.value,
        "service": service.name,
        "image": {
            "registry": registry,
            "repository": repository,
            "tag": version,
            "reference": f"{service.image}:{version}",
        },
        "replicas": service.replicas,
        "health_check": service.health_check.model_dump(),
        "resources": service.resources.model_dump(),
        "security": service.security.model_dump(),
        "secrets": [{"name": name, "source": "secret-store"} for name in service.secrets],
        "cost": {
            "monthly_usd": monthly_cost_usd if estimated else service.monthly_cost_usd,
            "source": "plan estimate" if estimated else "declared in the environment file",
        },
    }
