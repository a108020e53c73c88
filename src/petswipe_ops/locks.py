"""One release per environment on this machine: an exclusive lock file in the run folder."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from petswipe_ops.errors import OpsError


class ReleaseInProgress(OpsError):
    """Another release already holds the environment."""

    @classmethod
    def held_by(cls, environment: str, holder: str) -> ReleaseInProgress:
        return cls(
            f"environment '{environment}' is busy with release {holder}; wait for it to finish."
        )


@contextmanager
def environment_lock(path: Path, environment: str, holder: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            current = Path(path).read_text().strip() or "another release"
            raise ReleaseInProgress.held_by(environment, current) from exc
        os.ftruncate(fd, 0)
        os.write(fd, holder.encode())
        yield
    finally:
        os.close(fd)
