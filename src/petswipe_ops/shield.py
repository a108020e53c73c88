"""Let a rollback finish: SIGINT and SIGTERM that arrive during it do not cut it short.

A second Ctrl-C while traffic is being moved back must not leave the router half set.
The rollback runs only because the release is already ending, so a held signal asks
for nothing more: it is reported, and the run ends as soon as the rollback is done.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_held(on_signal: Callable[[int], None] = lambda signum: None) -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the duration of the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda signum, _frame: on_signal(signum)) for sig in HELD}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
