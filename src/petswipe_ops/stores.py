"""The environment a local service version gets to find the secret and flag stores."""

from __future__ import annotations

from petswipe_ops.config import EnvironmentConfig


def store_env(config: EnvironmentConfig) -> dict[str, str]:
    from petswipe_ops.secrets.environment import service_env

    return service_env(config)
