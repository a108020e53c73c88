"""Named points where a release can be held, so an interruption test can strike exactly there.

Set `PETSWIPE_HOLD_AT` to a point's name (`switch-stable:intent`, `stage:plan:done`, ...)
and the release writes `<run dir>/hold` with that name when it reaches the point, then
waits there for up to `HOLD_SECONDS` before going on. Unset, a point costs one lookup.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

HOLD_ENV = "PETSWIPE_HOLD_AT"
HOLD_SECONDS = 60.0


def hold(point: str, run_dir: Path) -> None:
    """Wait at `point` when it is the one named by PETSWIPE_HOLD_AT."""
    if os.environ.get(HOLD_ENV) != point:
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "hold").write_text(f"{point} {os.getpid()}\n")
    deadline = time.monotonic() + HOLD_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.1)
