"""Service versions started with the environment of the sandbox's secret and flag stores.

The release starts versions through the same runner, so every version finds the
stores whoever starts it; only file paths and secret names travel, never a value.
"""

from __future__ import annotations

from collections.abc import Callable

from petswipe_ops.platform.local.services import ProcessRunner
from petswipe_ops.platform.seams import VersionInstance


class StoreAwareRunner(ProcessRunner):
    """ProcessRunner whose versions also get `extra_env()` (read at each start)."""

    def __init__(self, *, extra_env: Callable[[], dict[str, str]], **kwargs) -> None:
        super().__init__(**kwargs)
        self.extra_env = extra_env

    def start(self, version: str, role: str, env: dict[str, str]) -> VersionInstance:
        return super().start(version, role, {**self.extra_env(), **env})
