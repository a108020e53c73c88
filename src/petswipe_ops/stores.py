"""The environment a local service version gets to find the secret and flag stores."""

from __future__ import annotations

from petswipe_ops.config import EnvironmentConfig


def store_env(config: EnvironmentConfig) -> dict[str, str]:
    from petswipe_ops.flags.environment import service_env as flag_env
    from petswipe_ops.secrets.environment import service_env as secret_env

    return {**secret_env(config), **flag_env(config)}
