"""One k6 run to completion: bounded in time, secrets kept out of argv and logs,
progress streamed line by line, a clean stop when the caller cancels.

Everything a script needs arrives through k6's process environment (k6 exposes it
as `__ENV`): an API key given on the command line would show in the process list.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, SecretStr

from petswipe_ops.child_env import child_env
from petswipe_ops.errors import ExternalCommandError
from petswipe_ops.k6 import k6_binary, k6_command
from petswipe_ops.loadtest.summary import LoadSummary
from petswipe_ops.proc import run

STOP_GRACE_S = 10.0
KILL_GRACE_S = 5.0
TIMEOUT_MARGIN_S = 60.0
PERCENT = re.compile(r"\[\s*(\d+(?:\.\d+)?)%\s*\]")
SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


class Outcome(StrEnum):
    PASSED = "passed"
    THRESHOLDS_FAILED = "thresholds_failed"
    CANCELLED = "cancelled"
    ERROR = "error"


EXIT_CODES: dict[int, str] = {
    97: "the cloud test run failed",
    100: "setup() did not finish within its timeout",
    101: "teardown() did not finish within its timeout",
    102: "a k6 timeout expired",
    103: "the k6 engine failed",
    104: "the script's options are invalid",
    106: "k6 could not start its REST API (is another k6 using the port?)",
    107: "the script threw an exception",
    108: "the script called test.abort()",
    109: "k6 crashed (Go panic)",
    110: "the script marked the test as failed",
}


class K6Result(BaseModel):
    outcome: Outcome
    exit_code: int
    message: str
    aborted: bool = False
    summary: LoadSummary | None = None
    planned_seconds: float
    wall_seconds: float
    inspect_seconds: float
    parse_seconds: float
    log_path: str

    @property
    def failed_thresholds(self) -> list[str]:
        return [t.name for t in self.summary.failed_thresholds] if self.summary else []


def classify(
    exit_code: int, summary: LoadSummary | None, aborted: bool, last_error: str = ""
) -> tuple[Outcome, str]:
    """Map k6's exit code to an outcome and one sentence naming what went wrong."""
    if exit_code == 0:
        return Outcome.PASSED, "all thresholds passed"
    if exit_code == 99:
        failed = [t.name for t in summary.failed_thresholds] if summary else []
        named = ", ".join(failed) or "unknown (no summary)"
        how = "aborted the run early" if aborted else "failed"
        return Outcome.THRESHOLDS_FAILED, f"thresholds {how}: {named}"
    if exit_code == 105 or exit_code < 0:
        return Outcome.CANCELLED, "k6 was interrupted before the scenario finished"
    reason = EXIT_CODES.get(exit_code, "k6 failed")
    detail = f": {last_error}" if last_error else ""
    return Outcome.ERROR, f"{reason} (k6 exit code {exit_code}){detail}"


def parse_duration(text: str) -> float:
    """k6's duration strings (`1m30s`, `2.5s`, `500ms`) in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ExternalCommandError(f"k6 reported a duration '{text}' that cannot be read.")
    return sum(float(n) * SECONDS[u] for n, u in parts)


def progress_percent(line: str) -> float | None:
    """The percentage on one of k6's progress lines (`load [ 42% ] ...`), if any."""
    match = PERCENT.search(line)
    return float(match.group(1)) if match else None


def _redact(line: str, secrets: list[str]) -> str:
    for secret in secrets:
        line = line.replace(secret, "***")
    return line


def _log_error(line: str) -> str | None:
    """The message of one of k6's `level=error` log lines."""
    if "level=error" not in line:
        return None
    match = re.search(r'msg="((?:[^"\\]|\\.)*)"', line)
    text = match.group(1) if match else line
    return text.replace("\\n", " ").replace('\\"', '"').split("\\t")[0].strip()


class K6Runner:
    """Runs one script with the k6 binary; one instance per run."""

    def __init__(
        self,
        script: Path,
        *,
        env: Mapping[str, str],
        secrets: Mapping[str, SecretStr] | None = None,
        summary_path: Path,
        log_path: Path,
        on_line: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.script = script
        self.env = dict(env)
        self.secrets = dict(secrets or {})
        self.summary_path = summary_path
        self.log_path = log_path
        self.on_line = on_line or (lambda line: None)
        self.cancel = cancel or threading.Event()
        self.started_at: float | None = None

    def _process_env(self) -> dict[str, str]:
        secret_values = {k: v.get_secret_value() for k, v in self.secrets.items()}
        return child_env(
            {
                **self.env,
                **secret_values,
                "SUMMARY_PATH": str(self.summary_path),
                "K6_NO_USAGE_REPORT": "true",
            }
        )

    def planned_seconds(self) -> float:
        """The scenario's total duration including graceful stops, from `k6 inspect`."""
        args = [k6_binary(), "inspect", "--execution-requirements", str(self.script)]
        result = run(args, timeout=60, env=self._process_env())
        try:
            return parse_duration(json.loads(result.stdout)["totalDuration"])
        except (json.JSONDecodeError, KeyError) as exc:
            raise ExternalCommandError(
                f"`k6 inspect` gave no total duration for {self.script.name}."
            ) from exc

    def run(self) -> K6Result:
        inspect_started = time.monotonic()
        planned = self.planned_seconds()
        inspect_seconds = time.monotonic() - inspect_started
        timeout = planned + TIMEOUT_MARGIN_S
        self.summary_path.parent.mkdir(parents=True, exist_ok=True)
        self.summary_path.unlink(missing_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        hidden = [v.get_secret_value() for v in self.secrets.values() if v.get_secret_value()]
        self.started_at = time.monotonic()
        process = subprocess.Popen(
            k6_command(self.script, {}, quiet=False),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._process_env(),
            start_new_session=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_pump, args=(process, lines), daemon=True)
        reader.start()
        errors: deque[str] = deque(maxlen=5)
        aborted = timed_out = cancelled = False
        try:
            with self.log_path.open("a") as log:
                while True:
                    if self.cancel.is_set() and not cancelled:
                        cancelled = True
                        _stop(process)
                    if time.monotonic() - self.started_at > timeout and not timed_out:
                        timed_out = True
                        _stop(process)
                    try:
                        raw = lines.get(timeout=0.2)
                    except queue.Empty:
                        continue
                    if raw is None:
                        break
                    line = _redact(raw.rstrip(), hidden)
                    log.write(line + "\n")
                    error = _log_error(line)
                    if error:
                        errors.append(error)
                        aborted = aborted or "abortOnFail" in error
                    if line.strip():
                        self.on_line(line)
        except BaseException:
            _stop(process)
            raise
        finally:
            process.wait(timeout=STOP_GRACE_S + KILL_GRACE_S)
        wall = time.monotonic() - self.started_at
        parse_started = time.monotonic()
        summary = LoadSummary.read(self.summary_path) if self.summary_path.is_file() else None
        parse_seconds = time.monotonic() - parse_started
        if timed_out:
            raise ExternalCommandError(
                f"k6 ran {self.script.name} past its planned {planned:.0f} s plus "
                f"{TIMEOUT_MARGIN_S:.0f} s and was stopped (see {self.log_path})."
            )
        outcome, message = classify(
            process.returncode, summary, aborted, errors[-1] if errors else ""
        )
        if cancelled:
            outcome, message = Outcome.CANCELLED, "the run was cancelled; k6 was interrupted"
        if outcome is not Outcome.CANCELLED and summary is None and process.returncode in (0, 99):
            raise ExternalCommandError(
                f"k6 finished {self.script.name} but wrote no summary to {self.summary_path}; "
                "the script must export handleSummary."
            )
        return K6Result(
            outcome=outcome,
            exit_code=process.returncode,
            message=message,
            aborted=aborted,
            summary=summary,
            planned_seconds=planned,
            wall_seconds=wall,
            inspect_seconds=inspect_seconds,
            parse_seconds=parse_seconds,
            log_path=str(self.log_path),
        )


def _pump(process: subprocess.Popen[bytes], lines: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    for raw in process.stdout:
        lines.put(raw.decode(errors="replace"))
    lines.put(None)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT first, so k6 stops its VUs and still writes the summary; kill if it hangs."""
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=KILL_GRACE_S)
