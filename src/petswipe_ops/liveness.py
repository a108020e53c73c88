"""Whether a process that once ran a release is still there, on this host or another."""

from __future__ import annotations

import os
import socket


def this_host() -> str:
    return socket.gethostname()


def alive(pid: int | None) -> bool:
    """The process exists (and, if it is our child, has not exited); no pid is no process."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return waited == 0


def gone(host: str | None, pid: str | int | None) -> bool:
    """True only when we can tell: the host is this one and the pid no longer runs."""
    if host != this_host():
        return False
    try:
        return not alive(int(pid or ""))
    except ValueError:
        return False
