"""Platform seams and their implementations (local sandbox; AWS behind the same Protocols)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from petswipe_ops.config import EnvironmentConfig, PlatformKind
from petswipe_ops.errors import ConfigError

if TYPE_CHECKING:
    from petswipe_ops.platform.seams import Platform


def open_platform(config: EnvironmentConfig) -> Platform:
    """The platform that runs `config`'s environment."""
    if config.platform is PlatformKind.LOCAL:
        from petswipe_ops.platform.local.sandbox import LocalSandbox

        return LocalSandbox(config)
    if config.platform is PlatformKind.AWS:
        from petswipe_ops.platform.aws.platform import AwsPlatform

        return AwsPlatform(config)
    raise ConfigError(f"environment '{config.environment}' has an unknown platform.")
