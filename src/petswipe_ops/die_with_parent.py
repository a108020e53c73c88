"""Run a program that the kernel stops when the process that started it dies.

    python -m petswipe_ops.die_with_parent <parent pid> <program> [argument ...]

`PR_SET_PDEATHSIG` is set here, in a fresh single-threaded process, and is kept across
the exec. Setting it from `Popen(preexec_fn=...)` would run Python between fork and exec
in a parent that has threads, which can deadlock. Linux only, like the sandbox.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Sequence

PR_SET_PDEATHSIG = 1


def command(program: str, *arguments: str) -> list[str]:
    """The argument list that runs `program` so that it dies with this process."""
    return [sys.executable, "-m", __name__, str(os.getpid()), program, *arguments]


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit():
        print("usage: python -m petswipe_ops.die_with_parent <pid> <program> [arg ...]")
        return 2
    parent, program, *arguments = argv
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        print(f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(ctypes.get_errno())}")
        return 1
    if os.getppid() != int(parent):
        return 1  # the parent died before the signal was armed: nobody wants the program
    os.execv(program, [program, *arguments])
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
